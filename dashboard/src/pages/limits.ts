// An account's risk limits: load, edit, save (PUT, a field left empty is no limit) and delete.
import { del, get, put } from "../api";
import { accountPicker } from "../accounts";
import { fieldForm } from "../forms";
import { h } from "../ui";

const DECIMALS = ["max_order_notional", "max_position_notional", "max_gross_exposure", "max_daily_loss", "max_drawdown", "max_leverage", "starting_balance"] as const;
const INTEGERS = ["max_open_orders", "max_orders_per_minute"] as const;

type Limits = Record<string, string | number | null>;

export function limitsEditor(): HTMLElement {
  let account = "";
  const inputs = Object.fromEntries([...DECIMALS, ...INTEGERS].map((name) =>
    [name, h("input", { inputmode: INTEGERS.includes(name as never) ? "numeric" : "decimal", placeholder: "no limit" })])) as Record<string, HTMLInputElement>;
  const fill = (limits: Limits): void => {
    for (const [name, input] of Object.entries(inputs)) input.value = limits[name] === null || limits[name] === undefined ? "" : String(limits[name]);
  };
  const path = (): string => `/v1/risk/accounts/${account}/limits`;
  const form = fieldForm("limit", inputs, "Save limits", (f) => void f.run(async () => {
    if (!account) throw new Error("the accounts are still loading");
    const body: Limits = {};
    for (const name of DECIMALS) if (inputs[name].value.trim()) body[name] = inputs[name].value.trim();
    // an integer field sends what was typed when it is not a whole number, so the API names it
    for (const name of INTEGERS) {
      const text = inputs[name].value.trim();
      if (text) body[name] = /^-?\d+$/.test(text) ? Number(text) : text;
    }
    fill(await put<Limits>(path(), body));
    return "limits saved";
  }), [h("button", { type: "button", class: "danger", "data-testid": "limit-delete", onclick: () => {
    if (confirm("Remove every limit of this account?")) void form.run(async () => { fill(await del<Limits>(path())); return "limits removed"; });
  } }, "Remove all")]);
  const load = (): void => void form.run(async () => {
    const limits = await get<Limits>(path());
    fill(limits);
    return limits.updated_at ? "limits loaded" : "limits loaded: none set";
  });
  const picker = h("div");
  void accountPicker((id) => { account = id; load(); }).then((el) => picker.replaceChildren(el)).catch((e) => { picker.textContent = String(e); });
  return h("div", {}, picker, form.element, form.status);
}
