// lightweight-charts helpers: one place for the look of every chart.
import {
  CandlestickSeries,
  ColorType,
  HistogramSeries,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";

export type { IChartApi, ISeriesApi, UTCTimestamp };
export { CandlestickSeries, HistogramSeries, LineSeries, createSeriesMarkers };

export function chart(container: HTMLElement, height = 360): IChartApi {
  const made = createChart(container, {
    height,
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: "#0f1419" },
      textColor: "#c9d1d9",
      attributionLogo: false, // attribution is the footer's link (no inline style for the CSP)
    },
    grid: { vertLines: { color: "#1c2430" }, horzLines: { color: "#1c2430" } },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  return made;
}

export const seconds = (ns: number): UTCTimestamp => Math.floor(ns / 1e9) as UTCTimestamp;

/** A line series from the API's `{t_ns, values}` series (duplicate seconds collapsed, last wins). */
export function points(series: { t_ns: number[]; values: number[] }): Array<{ time: UTCTimestamp; value: number }> {
  const out: Array<{ time: UTCTimestamp; value: number }> = [];
  series.t_ns.forEach((t, i) => {
    const time = seconds(t);
    const value = series.values[i];
    if (out.length && out[out.length - 1].time === time) out[out.length - 1].value = value;
    else if (!out.length || out[out.length - 1].time < time) out.push({ time, value });
  });
  return out;
}
