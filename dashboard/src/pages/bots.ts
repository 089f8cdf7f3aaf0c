// Bots: list with status and symbols, create one from the SMA-cross template (one symbol or several,
// comma-separated), start/stop/pause, change a bot's symbols (a running bot's wait for its next
// start), the decision log and the bot's trades drawn on its chart.
import { get, patch, post, query } from "../api";
import { accountPicker } from "../accounts";
import { TIMEFRAMES } from "./market";
import { allCandles, tradeChart } from "../tradechart";
import { h, num, type Page, section, showError, table, when } from "../ui";
import { listen } from "../ws";

interface Bot {
  bot_id: string; name: string; symbol: string; symbols: string[]; timeframe: string; status: string; status_reason: string; position: string;
  pending_config: { symbols?: string[] | null } | null;
}
interface BotTrade { bar_ns: number; side: string; quantity: string; price: string }
interface Decision { decision_id: number; created_at: string; action: string; signal: string; reason: string; quantity: string | null }

/** "BTC/USDT, ETH/USDT" → the symbols, in order. */
const symbolsOf = (text: string): string[] => text.split(",").map((s) => s.trim()).filter((s) => s !== "");

export const bots: Page = (root) => {
  let account = "";
  const name = h("input", { value: "sma bot", "data-testid": "bot-name" });
  const symbol = h("input", { value: "BTC/USDT", title: "one symbol or several, comma-separated", "data-testid": "bot-symbol" });
  const quantity = h("input", { value: "0.01", inputmode: "decimal", "data-testid": "bot-quantity" });
  const message = h("p", { "data-testid": "bot-message" });
  const list = h("div", {}, "loading…");
  const log = h("div", { class: "muted" }, "choose a bot");
  const holder = h("div", { class: "chart", "data-testid": "bot-chart" });
  const chartNote = h("p", { class: "muted", "data-testid": "bot-chart-note" }, "choose a bot");
  let view: { remove: () => void } | null = null;
  let chosen: Bot | null = null;
  const editSymbols = h("input", { size: "40", title: "comma-separated; the first is the bot's symbol", "data-testid": "bot-edit-symbols" });
  const editMessage = h("p", { class: "muted", "data-testid": "bot-edit-message" }, "choose a bot");
  const editForm = h("form", { class: "row", onsubmit: (e: Event) => { e.preventDefault(); void saveSymbols(); } },
    editSymbols, h("button", { type: "submit", "data-testid": "bot-save-symbols" }, "Save symbols"));
  const picker = h("div");
  root.append(picker,
    section("New bot (SMA cross 5/20, 1m)", h("form", { class: "row", onsubmit: (e: Event) => { e.preventDefault(); void create(); } },
      name, symbol, quantity, h("button", { type: "submit", "data-testid": "create-bot" }, "Create")), message),
    section("Bots", list), section("Symbols of the chosen bot", editForm, editMessage),
    section("Trades on the chart", holder, chartNote), section("Decision log", log));
  const stops: Array<() => void> = [];

  async function create(): Promise<void> {
    try {
      const strategy = await post<{ strategy_id: string; latest_version: number }>("/v1/strategies", {
        name: `${name.value} ${Date.now()}`, template: "sma_cross", params: { fast: 5, slow: 20 } });
      await post("/v1/bots", { name: name.value, account_id: account, strategy_id: strategy.strategy_id, strategy_version: strategy.latest_version,
        symbols: symbolsOf(symbol.value), timeframe: "1m", max_position: String(Number(quantity.value) * 10), sizing: { kind: "fixed", quantity: quantity.value } });
      message.textContent = "bot created (stopped)";
      await refresh();
    } catch (error) {
      showError(message, error);
    }
  }

  async function act(bot: Bot, action: string): Promise<void> {
    try { await post(`/v1/bots/${bot.bot_id}/${action}`); } catch (error) { showError(message, error); }
    await refresh();
  }

  /** A bot chosen: its symbols in the edit form. */
  function choose(bot: Bot): void {
    chosen = bot;
    editSymbols.value = (bot.pending_config?.symbols ?? bot.symbols).join(", ");
    editMessage.textContent = `${bot.name}: ${bot.status === "running" || bot.status === "paused" ? "a change applies at its next start" : "a change applies at once"}`;
  }

  async function saveSymbols(): Promise<void> {
    if (!chosen) return;
    try {
      const bot = await patch<Bot>(`/v1/bots/${chosen.bot_id}`, { symbols: symbolsOf(editSymbols.value) });
      choose(bot);
      editMessage.textContent = bot.pending_config?.symbols ? `saved: ${bot.pending_config.symbols.join(", ")} from its next start` : `saved: ${bot.symbols.join(", ")}`;
      await refresh();
    } catch (error) {
      showError(editMessage, error);
    }
  }

  async function decisions(bot: Bot): Promise<void> {
    try {
      const r = await get<{ items: Decision[] }>(`/v1/bots/${bot.bot_id}/decisions?${query({ limit: 50 })}`);
      log.replaceChildren(h("h3", {}, bot.name), table(r.items, [
        { title: "time", value: (d) => when(d.created_at) }, { title: "action", value: (d) => d.action },
        { title: "signal", value: (d) => d.signal }, { title: "qty", value: (d) => num(d.quantity, 6) }, { title: "reason", value: (d) => d.reason },
      ], "decisions", "no decisions yet (one per closed candle)"));
    } catch (error) {
      showError(log, error);
    }
  }

  /** The bot's last 500 candles with its trades (newest 200) as buy/sell markers. */
  async function tradesChart(bot: Bot): Promise<void> {
    try {
      const step = TIMEFRAMES[bot.timeframe] ?? 60;
      const from = BigInt(Math.floor(Date.now() / 1000 - step * 500)) * 1_000_000_000n;
      const [candles, trades] = await Promise.all([
        allCandles("/v1/market/candles", { symbol: bot.symbol, timeframe: bot.timeframe, from: from.toString() }),
        get<{ items: BotTrade[] }>(`/v1/bots/${bot.bot_id}/trades?${query({ limit: 200 })}`),
      ]);
      view?.remove();
      view = tradeChart(holder, candles, trades.items.map((t) => ({ t_ns: t.bar_ns, buy: t.side === "buy", text: `${t.side} ${num(t.quantity, 6)} @ ${num(t.price, 2)}` })));
      chartNote.textContent = `${bot.name}: ${trades.items.length} trades on ${candles.length} candles of ${bot.symbol} ${bot.timeframe}`;
    } catch (error) {
      showError(chartNote, error);
    }
  }

  async function refresh(): Promise<void> {
    try {
      const r = await get<{ items: Bot[] }>("/v1/bots?limit=100");
      list.replaceChildren(table(r.items, [
        { title: "name", value: (b) => h("a", { href: "#/bots", onclick: (e: Event) => { e.preventDefault(); choose(b); void decisions(b); void tradesChart(b); }, "data-testid": "bot-name-link" }, b.name) },
        { title: "symbols", value: (b) => h("span", { "data-testid": "bot-symbols" }, `${b.symbols.join(", ")} ${b.timeframe}`,
          b.pending_config?.symbols && b.pending_config.symbols.join() !== b.symbols.join()
            ? h("span", { class: "muted", "data-testid": "bot-pending-symbols" }, ` (next start: ${b.pending_config.symbols.join(", ")})`) : "") },
        { title: "status", value: (b) => h("span", { "data-testid": "bot-status", title: b.status_reason }, b.status) },
        { title: "position", value: (b) => num(b.position, 6) },
        { title: "", value: (b) => h("span", { class: "actions" },
          ...(b.status === "running" ? ["pause", "stop"] : b.status === "paused" ? ["resume", "stop"] : ["start"]).map((a) =>
            h("button", { class: "secondary", "data-testid": `bot-${a}`, onclick: () => void act(b, a) }, a))) },
      ], "bots", "no bots yet"));
      for (const stop of stops.splice(0)) stop();
      for (const b of r.items) stops.push(listen(`bots.${b.bot_id}`, () => void refresh()));
    } catch (error) {
      showError(list, error);
    }
  }
  void accountPicker((id) => { account = id; }).then((el) => picker.replaceChildren(el)).catch((e) => showError(picker, e));
  void refresh();
  return () => { for (const stop of stops) stop(); view?.remove(); };
};
