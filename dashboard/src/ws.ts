// One /v1/ws connection for the page: channels subscribed by name, events handed to listeners.
// Reconnects (with the current access token) after a drop and subscribes again.
import { resume, token } from "./api";

type Envelope = { type: string; data: Record<string, unknown> };
type Listener = (event: Envelope) => void;

const listeners = new Map<string, Set<Listener>>();
let socket: WebSocket | null = null;
let retry = 500;

function send(message: unknown): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function connect(): void {
  const current = token();
  if (!current || socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/ws`, ["tradeloom.v1", `bearer.${current}`]);
  socket = ws;
  ws.onopen = () => {
    retry = 500;
    for (const channel of listeners.keys()) send({ op: "subscribe", channel });
  };
  ws.onmessage = (message) => {
    const data = JSON.parse(String(message.data)) as { type: string; channel?: string; event?: Envelope };
    if (data.type === "event" && data.channel && data.event) {
      for (const listener of listeners.get(data.channel) ?? []) listener(data.event);
    }
  };
  ws.onclose = (closed) => {
    socket = null;
    if (!token()) return;
    const again = (): void => void (closed.code === 4401 ? resume().then((ok) => ok && connect()) : connect());
    setTimeout(again, retry);
    retry = Math.min(retry * 2, 15000);
  };
}

/** Listen to a channel (e.g. `prices.BTC/USDT`, `fills`); the returned function stops listening. */
export function listen(channel: string, listener: Listener): () => void {
  let set = listeners.get(channel);
  if (!set) {
    set = new Set();
    listeners.set(channel, set);
    send({ op: "subscribe", channel });
  }
  set.add(listener);
  connect();
  return () => {
    const current = listeners.get(channel);
    current?.delete(listener);
    if (current && current.size === 0) {
      listeners.delete(channel);
      send({ op: "unsubscribe", channel });
    }
  };
}

export function disconnect(): void {
  listeners.clear();
  socket?.close();
  socket = null;
}
