// Candles with trades drawn on them as markers (a bot's fills, a backtest's entries and exits).
import { get, query } from "./api";
import { CandlestickSeries, type IChartApi, type UTCTimestamp, chart, createSeriesMarkers, seconds } from "./charts";

export interface Candle { open_ns: number; open: string; high: string; low: string; close: string }
export interface Mark { t_ns: number; buy: boolean; text: string }

const PAGE = 5000;
const MAX_PAGES = 4; // 20,000 bars at most: enough to see, small enough for a phone

/** Every page of a candles endpoint (`/v1/market/candles` or a dataset's `/bars`), oldest first. */
export async function allCandles(path: string, params: Record<string, string | number | undefined>): Promise<Candle[]> {
  const out: Candle[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const reply = await get<{ candles: Candle[]; next_cursor?: string | null }>(`${path}?${query({ ...params, limit: PAGE, cursor })}`);
    out.push(...reply.candles);
    if (!reply.next_cursor) break;
    cursor = reply.next_cursor;
  }
  return out.sort((a, b) => a.open_ns - b.open_ns);
}

/** Draws the candles and the marks (each snapped to the candle it falls in); the holder's
 * `data-candles` / `data-markers` say how many were drawn (the browser test reads them). */
export function tradeChart(holder: HTMLElement, candles: Candle[], marks: Mark[], height = 360): IChartApi {
  const view = chart(holder, height);
  const series = view.addSeries(CandlestickSeries, { upColor: "#26a69a", downColor: "#ef5350", borderVisible: false });
  const bars: Array<{ time: UTCTimestamp; open: number; high: number; low: number; close: number }> = [];
  for (const c of candles) {
    const time = seconds(c.open_ns);
    if (bars.length && bars[bars.length - 1].time >= time) continue;
    bars.push({ time, open: +c.open, high: +c.high, low: +c.low, close: +c.close });
  }
  series.setData(bars);
  const snapped = marks.flatMap((m) => {
    const t = seconds(m.t_ns);
    let lo = 0;
    let hi = bars.length - 1;
    if (hi < 0 || t < bars[0].time) return [];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bars[mid].time <= t) lo = mid;
      else hi = mid - 1;
    }
    return [{
      time: bars[lo].time,
      position: m.buy ? ("belowBar" as const) : ("aboveBar" as const),
      shape: m.buy ? ("arrowUp" as const) : ("arrowDown" as const),
      color: m.buy ? "#26a69a" : "#ef5350",
      text: m.text,
    }];
  }).sort((a, b) => a.time - b.time);
  createSeriesMarkers(series, snapped);
  view.timeScale().fitContent();
  holder.dataset.candles = String(bars.length);
  holder.dataset.markers = String(snapped.length);
  return view;
}
