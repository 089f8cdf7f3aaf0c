// The shell: log in / out, the navigation (hash routes) and the current page.
import "./style.css";
import { ApiError, login, logout, onAuthChange, resume } from "./api";
import { backtests } from "./pages/backtests";
import { bots } from "./pages/bots";
import { market } from "./pages/market";
import { portfolio } from "./pages/portfolio";
import { risk } from "./pages/risk";
import { setup } from "./pages/setup";
import { trading } from "./pages/trading";
import { h, type Page } from "./ui";
import { disconnect } from "./ws";

const PAGES: Record<string, [string, Page]> = {
  market: ["Market", market],
  trading: ["Trading", trading],
  bots: ["Bots", bots],
  backtests: ["Backtests", backtests],
  risk: ["Risk", risk],
  portfolio: ["Portfolio", portfolio],
  setup: ["Keys & data", setup],
};

const app = document.getElementById("app") as HTMLElement;
let cleanup = (): void => {};

function loginForm(): HTMLElement {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, "data-testid": "email" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true, "data-testid": "password" });
  const error = h("p", { class: "error", role: "alert", "data-testid": "login-error" });
  return h("form", { class: "card login", onsubmit: async (e: Event) => {
    e.preventDefault();
    error.textContent = "";
    try {
      await login(email.value, password.value);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
    }
  } }, h("h1", {}, "Tradeloom"), h("label", {}, "Email", email), h("label", {}, "Password", password),
  h("button", { type: "submit", "data-testid": "login" }, "Log in"), error);
}

function render(loggedIn: boolean): void {
  cleanup();
  cleanup = () => {};
  if (!loggedIn) {
    disconnect();
    app.replaceChildren(loginForm());
    return;
  }
  const name = location.hash.replace(/^#\//, "").split("?")[0] || "market";
  const [, page] = PAGES[name] ?? PAGES.market;
  const main = h("main", { "data-page": name });
  const nav = h("nav", {}, h("strong", {}, "Tradeloom"),
    ...Object.entries(PAGES).map(([key, [title]]) => h("a", { href: `#/${key}`, class: key === name ? "active" : "", "data-testid": `nav-${key}` }, title)),
    h("button", { class: "secondary", "data-testid": "logout", onclick: () => void logout() }, "Log out"));
  const footer = h("footer", {}, "Charts: ", h("a", { href: "https://www.tradingview.com/", rel: "noopener" }, "TradingView Lightweight Charts™"));
  app.replaceChildren(nav, main, footer);
  cleanup = page(main);
}

let loggedIn = false;
onAuthChange((now) => {
  if (now !== loggedIn) {
    loggedIn = now;
    render(now);
  }
});
window.addEventListener("hashchange", () => loggedIn && render(true));
void resume().then((ok) => { if (!ok) render(false); });
