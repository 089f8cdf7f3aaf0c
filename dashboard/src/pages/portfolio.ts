// Portfolio: summary across accounts, an account's daily equity curve, monthly returns, exposure.
import { get, query } from "../api";
import { accountPicker } from "../accounts";
import { LineSeries, chart, type UTCTimestamp } from "../charts";
import { h, num, type Page, section, showError, table } from "../ui";

interface Point { day: string; equity: string }
interface Month { period: string; pnl: string; period_return: number; trades: number }

export const portfolio: Page = (root) => {
  const summary = h("div", {}, "loading…");
  const holder = h("div", { class: "chart", "data-testid": "portfolio-equity" });
  const months = h("div", {}, "loading…");
  const exposure = h("div", {}, "loading…");
  const picker = h("div");
  root.append(section("Summary", summary), picker, section("Equity", holder), section("Monthly returns", months), section("Exposure by asset", exposure));
  const view = chart(holder, 280);
  const line = view.addSeries(LineSeries, { color: "#4fc3f7", lineWidth: 2 });

  get<{ net_pnl: string; day_pnl: string; exposure: string; accounts: Array<{ account_id: string; net_pnl: string; day_pnl: string; exposure: string; trades: number }> }>("/v1/analytics/summary")
    .then((s) => summary.replaceChildren(h("p", {}, `net PnL ${num(s.net_pnl)} · today ${num(s.day_pnl)} · exposure ${num(s.exposure)}`),
      table(s.accounts, [{ title: "account", value: (a) => a.account_id.slice(0, 8) }, { title: "net PnL", value: (a) => num(a.net_pnl) },
        { title: "today", value: (a) => num(a.day_pnl) }, { title: "exposure", value: (a) => num(a.exposure) }, { title: "trades", value: (a) => String(a.trades) }], "summary")))
    .catch((e) => showError(summary, e));

  async function load(account: string): Promise<void> {
    const end = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 365 * 86400_000).toISOString().slice(0, 10);
    const q = query({ start, end });
    get<{ points: Point[] }>(`/v1/analytics/accounts/${account}/equity?${q}`)
      .then((c) => { line.setData(c.points.map((p) => ({ time: (Date.parse(`${p.day}T00:00:00Z`) / 1000) as UTCTimestamp, value: Number(p.equity) }))); view.timeScale().fitContent(); })
      .catch((e) => holder.append(h("p", { class: "error" }, String(e))));
    get<{ items: Month[] }>(`/v1/analytics/accounts/${account}/pnl?${q}&period=month`)
      .then((r) => months.replaceChildren(table(r.items, [{ title: "month", value: (m) => m.period }, { title: "PnL", value: (m) => num(m.pnl) },
        { title: "return", value: (m) => `${num(m.period_return * 100)} %` }, { title: "trades", value: (m) => String(m.trades) }], "monthly", "no closed days yet")))
      .catch((e) => showError(months, e));
    get<{ per_asset?: Record<string, unknown>; gross: string; net: string }>(`/v1/risk/accounts/${account}/exposure`)
      .then((x) => exposure.replaceChildren(h("p", {}, `gross ${num(x.gross)} · net ${num(x.net)}`),
        table(Object.entries(x.per_asset ?? {}), [{ title: "asset", value: ([k]) => k }, { title: "exposure", value: ([, v]) => (typeof v === "object" ? JSON.stringify(v) : num(String(v))) }], "exposure", "flat")))
      .catch((e) => showError(exposure, e));
  }
  void accountPicker((id) => void load(id)).then((el) => picker.replaceChildren(el)).catch((e) => showError(picker, e));
  return () => view.remove();
};
