// Market: candles + volume for a symbol/timeframe, live from the WebSocket's trades, an indicator
// overlay from /v1/indicators/compute, and the order book.
import { get, post, query } from "../api";
import { CandlestickSeries, HistogramSeries, LineSeries, chart, seconds, type UTCTimestamp } from "../charts";
import { every, h, num, type Page, section, showError } from "../ui";
import { listen } from "../ws";

interface Candle { open_ns: number; open: string; high: string; low: string; close: string; volume: string }
interface Bar { time: UTCTimestamp; open: number; high: number; low: number; close: number }
interface Trade { ts_ns: number; price: string; amount: string }
interface Level { price: string; amount: string }

export const TIMEFRAMES: Record<string, number> = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400 };
const INDICATORS: Record<string, Record<string, number>> = { none: {}, sma: { window: 20 }, ema: { window: 20 } };

export const market: Page = (root) => {
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const symbol = h("input", { value: params.get("symbol") ?? "BTC/USDT", "aria-label": "symbol", "data-testid": "symbol" });
  const timeframe = h("select", { "aria-label": "timeframe", "data-testid": "timeframe" },
    ...Object.keys(TIMEFRAMES).map((tf) => h("option", { value: tf }, tf)));
  timeframe.value = params.get("timeframe") ?? "1m";
  const indicator = h("select", { "aria-label": "indicator", "data-testid": "indicator" },
    ...Object.keys(INDICATORS).map((name) => h("option", { value: name }, name)));
  const last = h("strong", { "data-testid": "last-price" }, "–");
  const updates = h("span", { "data-testid": "live-updates" }, "0");
  const status = h("p", { class: "muted", "data-testid": "chart-status" }, "loading…");
  const holder = h("div", { class: "chart", "data-testid": "candles-chart" });
  const book = h("div", { "data-testid": "order-book" }, "loading…");
  root.append(
    section("Market",
      h("form", { class: "row", onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
        symbol, timeframe, indicator, h("button", { type: "submit" }, "Show")),
      h("p", {}, "Last ", last, " · live updates ", updates),
      holder, status),
    section("Order book", book),
  );
  const view = chart(holder, 420);
  const candles = view.addSeries(CandlestickSeries, { upColor: "#26a69a", downColor: "#ef5350", borderVisible: false });
  const volume = view.addSeries(HistogramSeries, { priceScaleId: "vol", priceFormat: { type: "volume" }, color: "#3b4a5a" });
  view.priceScale("vol").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const overlay = view.addSeries(LineSeries, { color: "#f5a623", lineWidth: 2 });
  let bar: Bar | null = null;
  let barVolume = 0;
  let count = 0;
  let stopLive = (): void => {};

  function onTrades(trades: Trade[], step: number): void {
    for (const trade of trades.slice().sort((a, b) => a.ts_ns - b.ts_ns)) {
      const price = Number(trade.price);
      const time = (Math.floor(trade.ts_ns / 1e9 / step) * step) as UTCTimestamp;
      if (bar && time < bar.time) continue;
      if (!bar || time > bar.time) {
        bar = { time, open: price, high: price, low: price, close: price };
        barVolume = 0;
      }
      bar = { ...bar, high: Math.max(bar.high, price), low: Math.min(bar.low, price), close: price };
      barVolume += Number(trade.amount);
      candles.update(bar);
      volume.update({ time, value: barVolume });
      last.textContent = num(price, 4);
    }
    count += 1;
    updates.textContent = String(count);
  }

  async function load(): Promise<void> {
    stopLive();
    const sym = symbol.value.trim();
    const tf = timeframe.value;
    const step = TIMEFRAMES[tf];
    const from = BigInt(Math.floor(Date.now() / 1000 - step * 500)) * 1_000_000_000n;
    history.replaceState(null, "", `#/market?${query({ symbol: sym, timeframe: tf })}`);
    status.textContent = "loading…";
    try {
      const reply = await get<{ candles: Candle[] }>(`/v1/market/candles?${query({ symbol: sym, timeframe: tf, limit: 500, from: from.toString() })}`);
      const rows = reply.candles.slice().sort((a, b) => a.open_ns - b.open_ns);
      const bars = rows.map((c) => ({ time: seconds(c.open_ns), open: +c.open, high: +c.high, low: +c.low, close: +c.close }));
      candles.setData(bars);
      volume.setData(rows.map((c) => ({ time: seconds(c.open_ns), value: +c.volume })));
      bar = bars.length ? bars[bars.length - 1] : null;
      barVolume = rows.length ? Number(rows[rows.length - 1].volume) : 0;
      if (bar) last.textContent = num(bar.close, 4);
      status.textContent = `${bars.length} candles of ${sym} ${tf}`;
      holder.dataset.loaded = String(bars.length);
      if (!performance.getEntriesByName("first-chart").length) performance.mark("first-chart"); // bench_dashboard
      await loadIndicator(sym, tf);
    } catch (error) {
      showError(status, error);
    }
    stopLive = listen(`prices.${sym}`, (event) => onTrades((event.data.trades ?? []) as Trade[], step));
  }

  async function loadIndicator(sym: string, tf: string): Promise<void> {
    const name = indicator.value;
    if (name === "none") return overlay.setData([]);
    const series = await post<{ open_ns: number[]; outputs: Record<string, Array<number | null>> }>(
      "/v1/indicators/compute", { indicator: name, params: INDICATORS[name], symbol: sym, timeframe: tf, limit: 500 });
    const values = Object.values(series.outputs)[0] ?? [];
    overlay.setData(series.open_ns.flatMap((t, i) => (values[i] === null || values[i] === undefined ? [] : [{ time: seconds(t), value: values[i] as number }])));
  }

  async function loadBook(): Promise<void> {
    try {
      const reply = await get<{ bids: Level[]; asks: Level[] }>(`/v1/market/book?${query({ symbol: symbol.value.trim(), depth: 10 })}`);
      const side = (levels: Level[], cls: string): HTMLElement =>
        h("table", { class: cls }, ...levels.map((l) => h("tr", {}, h("td", {}, num(l.price, 4)), h("td", {}, num(l.amount, 6)))));
      book.replaceChildren(h("div", { class: "book" }, h("div", {}, h("h3", {}, "Bids"), side(reply.bids, "bids")),
        h("div", {}, h("h3", {}, "Asks"), side(reply.asks, "asks"))));
    } catch (error) {
      showError(book, error);
    }
  }

  void load();
  void loadBook();
  const stopBook = every(3000, () => void loadBook());
  return () => { stopLive(); stopBook(); view.remove(); };
};
