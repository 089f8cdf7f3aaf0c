// The public API over fetch. The access token lives in this module's memory only; the refresh
// token is the HttpOnly cookie of /v1/auth/browser (the gateway sets it; no script can read it).

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[],
  ) {
    super(message);
  }
  /** The message of the error naming this field (the last part of `body.price` is `price`). */
  fieldMessage(name: string): string | undefined {
    const hit = this.fields.find((f) => f.field === name || f.field.split(".").pop() === name);
    return hit?.message;
  }
}

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners: Array<(loggedIn: boolean) => void> = [];

export function onAuthChange(listener: (loggedIn: boolean) => void): void {
  listeners.push(listener);
}

export function token(): string | null {
  return accessToken;
}

function setToken(value: string | null): void {
  accessToken = value;
  for (const listener of listeners) listener(value !== null);
}

async function toError(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const details = (body.details ?? {}) as { fields?: Array<{ field?: string; message?: string }> };
  const fields = (details.fields ?? []).map((f) => ({ field: String(f.field ?? ""), message: String(f.message ?? "") }));
  const message = String(body.detail ?? body.title ?? response.statusText);
  return new ApiError(response.status, String(body.code ?? "error"), message, fields);
}

async function session(path: string, body?: unknown): Promise<boolean> {
  const response = await fetch(`/v1/auth/browser/${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    if (path === "login") throw await toError(response);
    return false;
  }
  const answer = (await response.json()) as { access_token: string };
  setToken(answer.access_token);
  return true;
}

export async function login(email: string, password: string): Promise<void> {
  await session("login", { email, password });
}

/** A new access token from the cookie (one refresh at a time); false when there is no session. */
export async function resume(): Promise<boolean> {
  refreshing ??= session("refresh").finally(() => (refreshing = null));
  return refreshing;
}

export async function logout(): Promise<void> {
  if (accessToken) {
    await fetch("/v1/auth/browser/logout", {
      method: "POST",
      credentials: "same-origin",
      headers: { Authorization: `Bearer ${accessToken}` },
    });
  }
  setToken(null);
}

const IDEMPOTENT = ["/v1/orders", "/v1/backtests", "/v1/accounts", "/v1/datasets"];

/** One API call; a JSON body unless `contentType` says otherwise (a CSV upload sends its text). */
export async function api<T>(method: string, path: string, body?: unknown, retried = false, contentType = "application/json"): Promise<T> {
  const headers: Record<string, string> = {};
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers["Content-Type"] = contentType;
  if (method === "POST" && IDEMPOTENT.includes(path.split("?")[0])) headers["Idempotency-Key"] = crypto.randomUUID();
  const payload = body === undefined ? undefined : contentType === "application/json" ? JSON.stringify(body) : String(body);
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401 && !retried) {
    if (await resume()) return api<T>(method, path, body, true, contentType);
    setToken(null);
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string): Promise<T> => api<T>("GET", path);
export const post = <T>(path: string, body?: unknown): Promise<T> => api<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown): Promise<T> => api<T>("PUT", path, body);
export const patch = <T>(path: string, body: unknown): Promise<T> => api<T>("PATCH", path, body);
export const del = <T>(path: string): Promise<T> => api<T>("DELETE", path);
export const uploadCsv = <T>(path: string, text: string): Promise<T> => api<T>("POST", path, text, false, "text/csv");

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(key, String(value));
  return search.toString();
}
