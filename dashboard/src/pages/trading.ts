// Trading on a paper account: order entry (422 field errors next to the field), open orders with
// cancel, fills, positions with live PnL (marked by the WebSocket's trades), balances.
import { ApiError, api, get, post, query } from "../api";
import { type Balance, accountPicker } from "../accounts";
import { h, num, type Page, section, showError, table, when } from "../ui";
import { listen } from "../ws";

interface Order { order_id: string; symbol: string; side: string; type: string; quantity: string; filled_quantity: string; price: string | null; stop_price: string | null; status: string; created_at: string }
interface Fill { fill_id: string; symbol: string; side: string; price: string; quantity: string; fee: string; fee_asset: string; filled_at: string }
interface Position { symbol: string; quantity: string; average_entry: string; mark_price: string | null; realised_pnl: string; unrealised_pnl: string | null }

const FIELDS = ["symbol", "side", "type", "quantity", "price", "stop_price"] as const;

export const trading: Page = (root) => {
  let account = "";
  const marks = new Map<string, number>();
  const stops: Array<() => void> = [];
  const inputs = {
    symbol: h("input", { name: "symbol", value: "BTC/USDT", "data-testid": "order-symbol" }),
    side: h("select", { name: "side", "data-testid": "order-side" }, h("option", { value: "buy" }, "buy"), h("option", { value: "sell" }, "sell")),
    type: h("select", { name: "type", "data-testid": "order-type" },
      h("option", { value: "market" }, "market"), h("option", { value: "limit" }, "limit"), h("option", { value: "stop_market" }, "stop")),
    quantity: h("input", { name: "quantity", value: "0.01", inputmode: "decimal", "data-testid": "order-quantity" }),
    price: h("input", { name: "price", inputmode: "decimal", placeholder: "limit price", "data-testid": "order-price" }),
    stop_price: h("input", { name: "stop_price", inputmode: "decimal", placeholder: "stop price", "data-testid": "order-stop-price" }),
  };
  const errors = Object.fromEntries(FIELDS.map((f) => [f, h("span", { class: "field-error", "data-testid": `error-${f}` })])) as Record<string, HTMLElement>;
  const formError = h("p", { class: "error", role: "alert", "data-testid": "order-error" });
  const result = h("p", { class: "muted", "data-testid": "order-result" });
  const form = h("form", { class: "order-form", onsubmit: (e: Event) => { e.preventDefault(); void submit(); } },
    ...FIELDS.map((f) => h("label", {}, f.replace("_", " "), inputs[f], errors[f])),
    h("button", { type: "submit", "data-testid": "place-order" }, "Place order"), formError, result);
  const syncType = (): void => {
    inputs.price.disabled = inputs.type.value !== "limit";
    inputs.stop_price.disabled = inputs.type.value !== "stop_market";
  };
  inputs.type.addEventListener("change", syncType);
  syncType();
  const openBox = h("div", {}, "loading…");
  const fillsBox = h("div", {}, "loading…");
  const positionsBox = h("div", {}, "loading…");
  const balancesBox = h("div", {}, "loading…");
  const picker = h("div");
  root.append(picker, section("Order entry", form), section("Positions", positionsBox), section("Open orders", openBox),
    section("Fills", fillsBox), section("Balances", balancesBox));

  async function submit(): Promise<void> {
    for (const f of FIELDS) errors[f].textContent = "";
    formError.textContent = "";
    const body: Record<string, string> = { account_id: account, symbol: inputs.symbol.value.trim(), side: inputs.side.value, type: inputs.type.value, quantity: inputs.quantity.value.trim() };
    if (!inputs.price.disabled) body.price = inputs.price.value.trim();
    if (!inputs.stop_price.disabled) body.stop_price = inputs.stop_price.value.trim();
    try {
      const order = await post<Order>("/v1/orders", body);
      result.textContent = `order ${order.order_id.slice(0, 8)}… ${order.status}`;
      result.dataset.orderId = order.order_id;
      void refresh();
    } catch (error) {
      if (error instanceof ApiError && error.fields.length) {
        let placed = false;
        for (const f of FIELDS) {
          const message = error.fieldMessage(f);
          if (message) { errors[f].textContent = message; placed = true; }
        }
        if (!placed) formError.textContent = error.fields.map((f) => `${f.field}: ${f.message}`).join("; ");
      } else if (error instanceof ApiError) formError.textContent = `${error.message} (${error.code})`;
      else formError.textContent = String(error);
    }
  }

  function pnl(p: Position): string {
    const mark = marks.get(p.symbol) ?? (p.mark_price ? Number(p.mark_price) : NaN);
    if (!Number.isFinite(mark)) return num(p.unrealised_pnl);
    return num((mark - Number(p.average_entry)) * Number(p.quantity));
  }

  let positions: Position[] = [];
  function drawPositions(): void {
    positionsBox.replaceChildren(table(positions, [
      { title: "symbol", value: (p) => p.symbol },
      { title: "qty", value: (p) => num(p.quantity, 6) },
      { title: "entry", value: (p) => num(p.average_entry, 4) },
      { title: "mark", value: (p) => num(marks.get(p.symbol) ?? p.mark_price, 4) },
      { title: "unrealised", value: (p) => h("span", { "data-testid": "position-pnl" }, pnl(p)) },
      { title: "realised", value: (p) => num(p.realised_pnl) },
    ], "positions", "no positions"));
  }

  function watchMarks(): void {
    for (const p of positions) {
      if (stops.some((s) => (s as { symbol?: string }).symbol === p.symbol)) continue;
      const stop = listen(`prices.${p.symbol}`, (event) => {
        const trades = (event.data.trades ?? []) as Array<{ price: string }>;
        if (trades.length) { marks.set(p.symbol, Number(trades[0].price)); drawPositions(); }
      });
      stops.push(Object.assign(stop, { symbol: p.symbol }));
    }
  }

  async function refresh(): Promise<void> {
    if (!account) return;
    const q = query({ account_id: account });
    await Promise.all([
      get<{ items: Order[] }>(`/v1/orders?${q}&open_only=true`).then((r) => openBox.replaceChildren(table(r.items, [
        { title: "symbol", value: (o) => o.symbol }, { title: "side", value: (o) => o.side }, { title: "type", value: (o) => o.type },
        { title: "qty", value: (o) => num(o.quantity, 6) }, { title: "price", value: (o) => num(o.price ?? o.stop_price, 4) },
        { title: "status", value: (o) => o.status },
        { title: "", value: (o) => h("button", { class: "secondary", "data-testid": "cancel-order", onclick: async () => {
          try { await api("DELETE", `/v1/orders/${o.order_id}`); } catch (error) { showError(openBox, error); }
          void refresh();
        } }, "Cancel") },
      ], "open-orders", "no open orders"))).catch((e) => showError(openBox, e)),
      get<{ items: Fill[] }>(`/v1/fills?${q}&limit=50`).then((r) => fillsBox.replaceChildren(table(r.items, [
        { title: "time", value: (f) => when(f.filled_at) }, { title: "symbol", value: (f) => f.symbol }, { title: "side", value: (f) => f.side },
        { title: "qty", value: (f) => num(f.quantity, 6) }, { title: "price", value: (f) => num(f.price, 4) }, { title: "fee", value: (f) => `${num(f.fee, 6)} ${f.fee_asset}` },
      ], "fills", "no fills"))).catch((e) => showError(fillsBox, e)),
      get<{ items: Position[] }>(`/v1/risk/positions?${q}`).then((r) => {
        positions = r.items.filter((p) => Number(p.quantity) !== 0);
        drawPositions();
        watchMarks();
      }).catch((e) => showError(positionsBox, e)),
      get<{ balances: Balance[] }>(`/v1/accounts/${account}/balances`).then((r) => balancesBox.replaceChildren(table(r.balances, [
        { title: "asset", value: (b) => b.asset }, { title: "free", value: (b) => num(b.free, 8) }, { title: "locked", value: (b) => num(b.locked, 8) }, { title: "total", value: (b) => num(b.total, 8) },
      ], "balances", "no balances"))).catch((e) => showError(balancesBox, e)),
    ]);
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const soon = (): void => { clearTimeout(timer); timer = setTimeout(() => void refresh(), 150); };
  for (const channel of ["orders", "fills", "positions"]) stops.push(listen(channel, soon));
  stops.push(listen("orders", (event) => {
    const order = event.data.order as Order | undefined;
    if (order && order.order_id === result.dataset.orderId) result.textContent = `order ${order.order_id.slice(0, 8)}… ${order.status}`;
  }));
  const poll = setInterval(soon, 5000); // the socket drives updates; this catches a missed one
  stops.push(() => clearInterval(poll));
  void accountPicker((id) => { account = id; void refresh(); }).then((el) => picker.replaceChildren(el)).catch((e) => showError(picker, e));
  return () => { clearTimeout(timer); for (const stop of stops) stop(); };
};
