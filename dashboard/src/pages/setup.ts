// Exchange connections (create, test, balances, delete: the secret is never shown back, only the
// key's last four; a key that may withdraw needs the explicit tick) and dataset uploads (a CSV of
// bars, for backtests).
import { del, get, post, query, uploadCsv } from "../api";
import { fieldForm } from "../forms";
import { h, num, type Page, section, showError, table, when } from "../ui";

interface Connection { connection_id: string; venue: string; label: string; sandbox: boolean; api_key_last4: string; created_at: string }
interface VenueBalance { asset: string; free: string; locked: string; total: string }
interface TestResult { ok: boolean; latency_ms: number; answer: string; error_code: string | null }
interface Dataset { dataset_id: string; name: string; bar_count: number; symbol: string | null; created_at: string }

export const setup: Page = (root) => {
  const venues = h("datalist", { id: "venues" });
  const c = {
    venue: h("input", { list: "venues", autocomplete: "off" }),
    label: h("input", { value: "my key" }),
    api_key: h("input", { autocomplete: "off" }),
    secret: h("input", { type: "password", autocomplete: "new-password" }),
    passphrase: h("input", { type: "password", autocomplete: "new-password", placeholder: "if the venue wants one" }),
    // the API refuses a key with withdrawal rights unless this is ticked (its 422 lands here)
    allow_withdrawal_permission: h("input", { type: "checkbox" }),
  };
  const sandbox = h("input", { type: "checkbox", checked: true, "data-testid": "conn-sandbox" });
  const connections = fieldForm("conn", c, "Add connection", (form) => void form.run(async () => {
    const made = await post<Connection>("/v1/connections", {
      venue: c.venue.value.trim(), label: c.label.value.trim(), api_key: c.api_key.value.trim(), secret: c.secret.value,
      passphrase: c.passphrase.value || null, sandbox: sandbox.checked,
      allow_withdrawal_permission: c.allow_withdrawal_permission.checked });
    c.secret.value = c.passphrase.value = c.api_key.value = ""; // never kept on the page
    c.allow_withdrawal_permission.checked = false;
    void listConnections();
    return `connection ${made.label} added (key ${made.api_key_last4})`;
  }), [h("label", {}, "sandbox", sandbox), venues]);
  const connList = h("div", {}, "loading…");
  const testResult = h("p", { class: "muted", "data-testid": "conn-test-result" });
  const balances = h("div", { "data-testid": "conn-balances" });

  const file = h("input", { type: "file", accept: ".csv,text/csv" });
  const d = { name: h("input", { value: "" }), symbol: h("input", { placeholder: "optional, e.g. BTC/USDT" }), file };
  const datasets = fieldForm("ds", d, "Upload", (form) => void form.run(async () => {
    const chosen = file.files?.[0];
    if (!chosen) throw new Error("choose a CSV file (timestamp,open,high,low,close,volume)");
    const name = d.name.value.trim() || chosen.name.replace(/\.csv$/i, "");
    const made = await uploadCsv<Dataset>(`/v1/datasets?${query({ name, symbol: d.symbol.value.trim() })}`, await chosen.text());
    void listDatasets();
    return `dataset ${made.name} uploaded: ${made.bar_count} bars`;
  }));
  const dsList = h("div", {}, "loading…");

  root.append(
    section("Exchange connections", h("p", { class: "muted" }, "The key is checked with the venue when added and stored sealed; only its last four characters are ever shown again."),
      connections.element, connections.status, connList, testResult, balances),
    section("Datasets", h("p", { class: "muted" }, "A CSV with a header: timestamp (ms or ISO), open, high, low, close, volume."),
      datasets.element, datasets.status, dsList));

  async function act(task: () => Promise<string>): Promise<void> {
    testResult.className = "muted";
    try { testResult.textContent = await task(); } catch (error) { showError(testResult, error); }
  }

  async function listConnections(): Promise<void> {
    try {
      const r = await get<{ items: Connection[] }>("/v1/connections?limit=100");
      connList.replaceChildren(table(r.items, [
        { title: "label", value: (x) => x.label }, { title: "venue", value: (x) => `${x.venue}${x.sandbox ? " (sandbox)" : ""}` },
        { title: "key", value: (x) => x.api_key_last4 }, { title: "added", value: (x) => when(x.created_at) },
        { title: "", value: (x) => h("span", { class: "actions" },
          h("button", { class: "secondary", "data-testid": "conn-test", onclick: () => void act(async () => {
            const t = await post<TestResult>(`/v1/connections/${x.connection_id}/test`);
            return t.ok ? `${x.label}: ok in ${num(t.latency_ms, 0)} ms` : `${x.label}: failed (${t.error_code ?? "error"}): ${t.answer}`;
          }) }, "test"),
          h("button", { class: "secondary", "data-testid": "conn-balances-show", onclick: () => void act(async () => {
            const r = await get<{ balances: VenueBalance[] }>(`/v1/connections/${x.connection_id}/balances`);
            balances.replaceChildren(table(r.balances, [
              { title: "asset", value: (b) => b.asset }, { title: "free", value: (b) => num(b.free, 8) },
              { title: "locked", value: (b) => num(b.locked, 8) }, { title: "total", value: (b) => num(b.total, 8) },
            ], "conn-balance-rows", "no balances at the venue"));
            return `${x.label}: balances at ${x.venue}`;
          }) }, "balances"),
          h("button", { class: "danger", "data-testid": "conn-delete", onclick: () => {
            if (confirm(`Delete the connection ${x.label}?`)) void act(async () => {
              await del(`/v1/connections/${x.connection_id}`);
              balances.replaceChildren();
              void listConnections();
              return `${x.label} deleted`;
            });
          } }, "delete")) },
      ], "connections", "no exchange connections"));
    } catch (error) {
      showError(connList, error);
    }
  }

  async function listDatasets(): Promise<void> {
    try {
      const r = await get<{ datasets: Dataset[] }>("/v1/datasets");
      dsList.replaceChildren(table(r.datasets, [
        { title: "name", value: (x) => x.name }, { title: "symbol", value: (x) => x.symbol ?? "–" },
        { title: "bars", value: (x) => String(x.bar_count) }, { title: "uploaded", value: (x) => when(x.created_at) },
      ], "datasets", "no datasets yet"));
    } catch (error) {
      showError(dsList, error);
    }
  }

  get<{ venues: string[] }>("/v1/venues").then((r) => venues.append(...r.venues.map((v) => h("option", { value: v })))).catch(() => {});
  void listConnections();
  void listDatasets();
  return () => {};
};
