// The paper account the trading, risk and portfolio pages act on (chosen once, kept in memory).
import { get, post } from "./api";
import { h } from "./ui";

export interface Balance { asset: string; free: string; locked: string; total: string }
export interface Account { account_id: string; name: string; kind: string; venue: string; balances: Balance[] }

let chosen: string | null = null;

export async function accounts(): Promise<Account[]> {
  return (await get<{ items: Account[] }>("/v1/accounts")).items;
}

export async function createPaper(name: string): Promise<Account> {
  return post<Account>("/v1/accounts", { name });
}

/** A select of the user's accounts (a first paper account is created when there is none). */
export async function accountPicker(onChange: (accountId: string) => void): Promise<HTMLElement> {
  let list = await accounts();
  if (list.length === 0) list = [await createPaper("paper")];
  if (!chosen || !list.some((a) => a.account_id === chosen)) chosen = list[0].account_id;
  const select = h("select", { "aria-label": "account", "data-testid": "account" },
    ...list.map((a) => h("option", { value: a.account_id }, `${a.name} (${a.kind}, ${a.venue})`)));
  select.value = chosen;
  select.addEventListener("change", () => { chosen = select.value; onChange(select.value); });
  const add = h("button", { type: "button", class: "secondary", onclick: async () => {
    const made = await createPaper(`paper ${list.length + 1}`);
    list.push(made);
    select.append(h("option", { value: made.account_id }, `${made.name} (paper, ${made.venue})`));
    select.value = chosen = made.account_id;
    onChange(made.account_id);
  } }, "New paper account");
  onChange(chosen);
  return h("div", { class: "row" }, h("label", {}, "Account ", select), add);
}
