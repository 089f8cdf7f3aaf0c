// The optimisation heat map: two parameters on the axes, the metric as a colour (red → green),
// drawn on a canvas (no inline style: the CSP allows none). Best cell outlined.
import { h } from "./ui";

export interface Heatmap { x: string; y: string; metric: string; x_values: number[]; y_values: number[]; values: Array<Array<number | null>> }

const CELL = 44;
const AXIS = 56;

function colour(t: number): string {
  const hue = Math.round(120 * Math.min(1, Math.max(0, t))); // 0 red … 120 green
  return `hsl(${hue} 60% 40%)`;
}

export function heatmap(map: Heatmap, maximize = true): HTMLElement {
  const cells = map.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...cells);
  const hi = Math.max(...cells);
  const canvas = h("canvas", { "data-testid": "heatmap", role: "img",
    "aria-label": `${map.metric} by ${map.x} and ${map.y}`, "data-cells": String(cells.length) });
  canvas.width = AXIS + CELL * map.x_values.length;
  canvas.height = CELL * map.y_values.length + AXIS;
  const g = canvas.getContext("2d");
  if (g) {
    g.font = "11px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    const best = maximize ? hi : lo;
    map.y_values.forEach((yv, row) => {
      const top = CELL * (map.y_values.length - 1 - row); // y grows upwards
      g.fillStyle = "#8b98a8";
      g.fillText(String(yv), AXIS / 2, top + CELL / 2);
      map.x_values.forEach((_, col) => {
        const v = map.values[row]?.[col] ?? null;
        const left = AXIS + CELL * col;
        const t = hi > lo && v !== null ? (v - lo) / (hi - lo) : 1;
        g.fillStyle = v === null ? "#1c2430" : colour(maximize ? t : 1 - t);
        g.fillRect(left + 1, top + 1, CELL - 2, CELL - 2);
        g.fillStyle = "#f0f4f8";
        if (v !== null) g.fillText(v.toPrecision(3), left + CELL / 2, top + CELL / 2);
        if (v === best) { g.strokeStyle = "#ffffff"; g.lineWidth = 2; g.strokeRect(left + 2, top + 2, CELL - 4, CELL - 4); }
      });
    });
    g.fillStyle = "#8b98a8";
    map.x_values.forEach((xv, col) => g.fillText(String(xv), AXIS + CELL * col + CELL / 2, CELL * map.y_values.length + 12));
    g.fillText(`${map.x} →`, AXIS + (CELL * map.x_values.length) / 2, CELL * map.y_values.length + 34);
    g.save();
    g.translate(10, (CELL * map.y_values.length) / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(`${map.y} →`, 0, 0);
    g.restore();
  }
  const legend = h("p", { class: "muted" }, `${map.metric}: ${lo.toPrecision(3)} … ${hi.toPrecision(3)}, green is better${maximize ? "" : " (lower)"}; best outlined`);
  return h("div", { class: "scroll" }, canvas, legend);
}
