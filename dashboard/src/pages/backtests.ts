// Backtests: submit one (or a fast × slow search), follow its progress live, then equity +
// drawdown, the metrics table and the trades on the candle chart; a search shows its heat map.
import { get, post, query } from "../api";
import { LineSeries, chart, points } from "../charts";
import { heatmap, type Heatmap } from "../heatmap";
import { type Candle, allCandles, tradeChart } from "../tradechart";
import { h, num, type Page, section, showError, table } from "../ui";
import { listen } from "../ws";

interface Summary { backtest_id: string; kind: string; status: string; percent: number; phase: string; strategy: string; symbol: string | null; timeframe: string | null; dataset_id: string | null; error: string | null; created_at: string }
interface Trade { direction: string; entry_index: number; exit_index: number; entry_ns: number | null; exit_ns: number | null; pnl: string; exit_reason: string }

/** "3, 5,8" → [3, 5, 8] (the API names a bad value; this only splits). */
const list = (text: string): number[] => text.split(",").map((v) => v.trim()).filter(Boolean).map(Number);
interface Series { t_ns: number[]; values: number[] }

export const backtests: Page = (root) => {
  const day = 86400_000;
  const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const dataset = h("select", { "aria-label": "data", "data-testid": "bt-dataset" }, h("option", { value: "" }, "market candles (symbol, timeframe, dates)"));
  get<{ datasets: Array<{ dataset_id: string; name: string; bar_count: number }> }>("/v1/datasets")
    .then((r) => dataset.append(...r.datasets.map((d) => h("option", { value: d.dataset_id }, `dataset ${d.name} (${d.bar_count} bars)`))))
    .catch(() => {});
  const f = {
    symbol: h("input", { value: "BTC/USDT", "data-testid": "bt-symbol" }),
    timeframe: h("input", { value: "1m", "data-testid": "bt-timeframe" }),
    start: h("input", { type: "date", value: iso(Date.now() - day), "data-testid": "bt-start" }),
    end: h("input", { type: "date", value: iso(Date.now() + day), "data-testid": "bt-end" }),
    fast: h("input", { value: "5", "data-testid": "bt-fast", title: "a search takes a list: 3,5,8" }),
    slow: h("input", { value: "20", "data-testid": "bt-slow", title: "a search takes a list: 15,20,30" }),
    cash: h("input", { value: "10000", inputmode: "decimal", "data-testid": "bt-cash" }),
  };
  const message = h("p", { "data-testid": "bt-message" });
  const progress = h("progress", { max: "100", value: "0", "data-testid": "bt-progress" });
  const phase = h("span", { "data-testid": "bt-phase" });
  const equityHolder = h("div", { class: "chart", "data-testid": "equity-chart" });
  const drawdownHolder = h("div", { class: "chart small", "data-testid": "drawdown-chart" });
  const search = h("input", { type: "checkbox", "data-testid": "bt-search" });
  const metrics = h("div");
  const tradesHolder = h("div", { class: "chart", "data-testid": "bt-trades-chart" });
  const tradesNote = h("p", { class: "muted", "data-testid": "bt-trades-note" });
  const searchBox = h("div", { class: "muted" }, "submit with “search fast × slow” and lists of values");
  const recentBox = h("div", {}, "loading…");
  root.append(
    section("New backtest (SMA cross)",
      h("form", { class: "grid-form", onsubmit: (e: Event) => { e.preventDefault(); void submit(); } },
        h("label", {}, "data", dataset), ...Object.entries(f).map(([name, input]) => h("label", {}, name, input)),
        h("label", {}, "search fast × slow", search),
        h("button", { type: "submit", "data-testid": "run-backtest" }, "Run")),
      message, h("p", {}, progress, " ", phase)),
    section("Equity and drawdown", equityHolder, drawdownHolder, metrics),
    section("Trades on the candles", tradesHolder, tradesNote),
    section("Optimisation heat map", searchBox),
    section("Recent backtests", recentBox));
  let stopLive = (): void => {};
  const charts: Array<{ remove: () => void }> = [];

  async function submit(): Promise<void> {
    stopLive();
    message.textContent = "";
    try {
      const source = dataset.value
        ? { dataset_id: dataset.value }
        : { symbol: f.symbol.value.trim(), timeframe: f.timeframe.value.trim(), start: `${f.start.value}T00:00:00Z`, end: `${f.end.value}T00:00:00Z` };
      const grid = search.checked
        ? { params: {}, optimise: { method: "grid", metric: "total_return", space: { fast: { values: list(f.fast.value) }, slow: { values: list(f.slow.value) } } } }
        : { params: { fast: Number(f.fast.value), slow: Number(f.slow.value) } };
      const accepted = await post<{ backtest_id: string }>("/v1/backtests", {
        strategy: "sma_cross", initial_cash: f.cash.value.trim(), ...grid, ...source,
      });
      follow(accepted.backtest_id);
    } catch (error) {
      showError(message, error);
    }
  }

  function follow(id: string): void {
    message.textContent = `backtest ${id.slice(0, 8)}… queued`;
    const onStatus = (s: { status?: string; percent?: number; phase?: string; error?: string | null }): void => {
      if (s.percent !== undefined) progress.value = s.percent;
      phase.textContent = `${s.phase ?? ""} ${s.status ?? ""}`.trim();
      if (s.status === "completed") { stopLive(); void show(id); }
      if (s.status === "failed" || s.status === "cancelled") { stopLive(); message.textContent = `backtest ${s.status}: ${s.error ?? ""}`; }
    };
    const unlisten = listen(`backtests.${id}`, (event) => {
      const name = event.type.split(".")[2] ?? "";
      if (name === "progress") onStatus({ percent: Number(event.data.percent), phase: String(event.data.phase), status: "running" });
      else if (name) void get<Summary>(`/v1/backtests/${id}`).then(onStatus);
    });
    // the socket gives the progress; one poll a second catches a run that finished before it subscribed
    const timer = setInterval(() => void get<Summary>(`/v1/backtests/${id}`).then(onStatus).catch(() => {}), 1000);
    stopLive = () => { unlisten(); clearInterval(timer); stopLive = () => {}; };
  }

  async function show(id: string): Promise<void> {
    try {
      const summary = await get<Summary>(`/v1/backtests/${id}`);
      if (summary.kind === "search") return await showSearch(id);
      const [curves, results] = await Promise.all([
        get<{ equity: Series; drawdown: Series }>(`/v1/backtests/${id}/equity?${query({ max_points: 1000 })}`),
        get<{ metrics: Record<string, unknown>; final_equity: string; trade_count: number }>(`/v1/backtests/${id}/results`),
      ]);
      for (const c of charts.splice(0)) c.remove();
      const equity = chart(equityHolder, 300);
      equity.addSeries(LineSeries, { color: "#4fc3f7", lineWidth: 2 }).setData(points(curves.equity));
      equity.timeScale().fitContent();
      const drawdown = chart(drawdownHolder, 160);
      drawdown.addSeries(LineSeries, { color: "#ef5350", lineWidth: 1 }).setData(points(curves.drawdown));
      drawdown.timeScale().fitContent();
      charts.push(equity, drawdown);
      equityHolder.dataset.points = String(curves.equity.values.length);
      message.textContent = `backtest ${id.slice(0, 8)}… completed`;
      const rows: Array<[string, unknown]> = [["final equity", results.final_equity], ["trades", results.trade_count], ...Object.entries(results.metrics)];
      metrics.replaceChildren(table(rows, [{ title: "metric", value: ([k]) => k }, { title: "value", value: ([, v]) => (typeof v === "number" || typeof v === "string" ? num(v, 4) : JSON.stringify(v)) }], "metrics"));
      void recent();
      await showTrades(summary, curves.equity.t_ns);
    } catch (error) {
      showError(metrics, error);
    }
  }

  /** The run's candles (its dataset's bars, or the market's over the equity curve's span) with
   * each trade's entry and exit as markers. */
  async function showTrades(run: Summary, span: number[]): Promise<void> {
    tradesNote.textContent = "loading…";
    try {
      const trades: Trade[] = [];
      let cursor: string | undefined;
      do {
        const page = await get<{ items: Trade[]; next_cursor: string | null }>(`/v1/backtests/${run.backtest_id}/trades?${query({ limit: 200, cursor })}`);
        trades.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && trades.length < 2000);
      const candles: Candle[] = run.dataset_id
        ? await allCandles(`/v1/datasets/${run.dataset_id}/bars`, {})
        : await allCandles("/v1/market/candles", { symbol: run.symbol ?? "", timeframe: run.timeframe ?? "1h", from: String(span[0] ?? ""), to: String(span[span.length - 1] ?? "") });
      const at = (ns: number | null, index: number): number => ns ?? candles[Math.min(index, candles.length - 1)]?.open_ns ?? 0;
      const marks = trades.flatMap((t) => {
        const long = t.direction === "long";
        return [
          { t_ns: at(t.entry_ns, t.entry_index), buy: long, text: long ? "long" : "short" },
          { t_ns: at(t.exit_ns, t.exit_index), buy: !long, text: `${t.exit_reason} ${num(t.pnl)}` },
        ];
      });
      for (const c of charts.splice(2)) c.remove();
      charts.push(tradeChart(tradesHolder, candles, marks));
      tradesNote.textContent = `${trades.length} trades on ${candles.length} candles`;
    } catch (error) {
      showError(tradesNote, error);
    }
  }

  async function showSearch(id: string): Promise<void> {
    try {
      const map = await get<Heatmap>(`/v1/backtests/${id}/optimisation/heatmap?${query({ x: "fast", y: "slow" })}`);
      searchBox.replaceChildren(heatmap(map));
      message.textContent = `search ${id.slice(0, 8)}… completed`;
      void recent();
    } catch (error) {
      showError(searchBox, error);
    }
  }

  async function recent(): Promise<void> {
    try {
      const r = await get<{ items: Summary[] }>("/v1/backtests?limit=10");
      recentBox.replaceChildren(table(r.items, [
        { title: "id", value: (b) => h("a", { href: "#/backtests", onclick: (e: Event) => { e.preventDefault(); void show(b.backtest_id); } }, `…${b.backtest_id.slice(-8)}`) },
        { title: "kind", value: (b) => b.kind }, { title: "strategy", value: (b) => b.strategy }, { title: "symbol", value: (b) => b.symbol ?? "dataset" },
        { title: "status", value: (b) => b.status }, { title: "%", value: (b) => num(b.percent, 0) },
      ], "backtests", "no backtests yet"));
    } catch (error) {
      showError(recentBox, error);
    }
  }
  void recent();
  return () => { stopLive(); for (const c of charts) c.remove(); };
};
