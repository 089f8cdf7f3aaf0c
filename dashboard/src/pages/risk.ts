// Risk: limits, alerts as they arrive, and the emergency stop (two clicks: arm, then confirm).
import { get, post } from "../api";
import { h, num, type Page, section, showError, table, when } from "../ui";
import { listen } from "../ws";
import { limitsEditor } from "./limits";

interface Alert { alert_id: string; created_at: string; severity: string; limit_name: string; message: string; value: string; threshold: string }

export const risk: Page = (root) => {
  const state = h("p", { "data-testid": "halt-state" }, "");
  const reason = h("input", { value: "manual stop from the dashboard", "aria-label": "reason", "data-testid": "halt-reason" });
  const confirm = h("button", { class: "danger", hidden: true, "data-testid": "confirm-emergency-stop", onclick: () => void act("emergency-stop") }, "Confirm: halt all my trading");
  const cancel = h("button", { class: "secondary", hidden: true, onclick: () => arm(false) }, "Cancel");
  const stop = h("button", { class: "danger", "data-testid": "emergency-stop", onclick: () => arm(true) }, "Emergency stop");
  const resume = h("button", { class: "secondary", "data-testid": "resume-trading", onclick: () => void act("resume") }, "Resume trading");
  const limits = h("div", {}, "loading…");
  const alerts = h("div", {}, "loading…");
  root.append(
    section("Emergency stop", h("p", { class: "muted" }, "Cancels your open orders and refuses new ones and halts your bots until you resume."),
      h("div", { class: "row" }, reason, stop, confirm, cancel, resume), state),
    section("Alerts", alerts), section("Limits (all my accounts)", limits), section("Account limits", limitsEditor()));

  function arm(on: boolean): void {
    stop.hidden = on;
    confirm.hidden = cancel.hidden = !on;
  }

  async function act(what: "emergency-stop" | "resume"): Promise<void> {
    arm(false);
    try {
      const halt = await post<{ halted: boolean; reason: string }>(`/v1/risk/${what}`, { scope: "user", reason: reason.value || what });
      state.textContent = halt.halted ? `HALTED: ${halt.reason}` : "trading resumed";
      state.className = halt.halted ? "error" : "ok";
    } catch (error) {
      showError(state, error);
    }
  }

  let items: Alert[] = [];
  const draw = (): void => alerts.replaceChildren(table(items, [
    { title: "time", value: (a) => when(a.created_at) }, { title: "severity", value: (a) => a.severity },
    { title: "limit", value: (a) => a.limit_name }, { title: "message", value: (a) => a.message },
    { title: "value / threshold", value: (a) => `${num(a.value)} / ${num(a.threshold)}` },
  ], "alerts", "no alerts"));
  get<{ items: Alert[] }>("/v1/risk/alerts?limit=50").then((r) => { items = r.items; draw(); }).catch((e) => showError(alerts, e));
  get<Record<string, unknown>>("/v1/risk/limits").then((r) => {
    const rows = Object.entries((r.limits ?? r) as Record<string, unknown>).filter(([, v]) => typeof v !== "object" || v === null);
    limits.replaceChildren(table(rows, [{ title: "limit", value: ([k]) => k }, { title: "value", value: ([, v]) => String(v ?? "–") }], "limits", "no limits set"));
  }).catch((e) => showError(limits, e));
  return listen("alerts", (event) => {
    const alert = (event.data.alert ?? event.data) as Alert;
    if (alert.alert_id) { items = [alert, ...items]; draw(); }
  });
};
