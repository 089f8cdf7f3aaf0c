// Small DOM helpers (no framework: the page stays small).
import { ApiError } from "./api";

type Child = Node | string | null | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((event: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") element.addEventListener(key.replace(/^on/, ""), value);
    else if (value === true) element.setAttribute(key, "");
    else if (value !== false) element.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

export type Page = (root: HTMLElement) => () => void;

export interface Column<T> {
  title: string;
  value: (row: T) => Child;
}

export function table<T>(rows: T[], columns: Column<T>[], testid: string, empty = "none"): HTMLElement {
  if (rows.length === 0) return h("p", { class: "muted", "data-testid": testid }, empty);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { "data-testid": testid },
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", {}, c.title)))),
      h("tbody", {}, ...rows.map((row) => h("tr", {}, ...columns.map((c) => h("td", {}, c.value(row)))))),
    ),
  );
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

/** A decimal string shortened for display (the API's strings are exact; this is only for eyes). */
export function num(value: string | number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  return Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits }) : String(value);
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return String(error);
}

/** Replace an element's content with an error line instead of throwing into the void. */
export function showError(target: HTMLElement, error: unknown): void {
  target.replaceChildren(h("p", { class: "error", role: "alert" }, errorText(error)));
}

export function every(ms: number, task: () => void): () => void {
  const id = setInterval(task, ms);
  return () => clearInterval(id);
}
