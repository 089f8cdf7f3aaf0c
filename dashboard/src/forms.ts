// A form whose API errors land next to their field: a 422's `details.fields[].field` (e.g.
// `body.api_key`) names the input; anything else is shown under the form.
import { ApiError } from "./api";
import { errorText, h } from "./ui";

type Input = HTMLInputElement | HTMLSelectElement;

export interface FieldForm {
  element: HTMLFormElement;
  status: HTMLElement;
  /** Clears every message, runs the task, shows its error next to the field it names. */
  run: (task: () => Promise<string>) => Promise<void>;
}

/** `prefix` makes the test ids: `${prefix}-${field}` for an input, `${prefix}-error-${field}` for its error. */
export function fieldForm(prefix: string, inputs: Record<string, Input>, submit: string, onSubmit: (form: FieldForm) => void, extra: Node[] = []): FieldForm {
  const errors: Record<string, HTMLElement> = {};
  const labels = Object.entries(inputs).map(([name, input]) => {
    input.name = name;
    input.dataset.testid = `${prefix}-${name}`;
    errors[name] = h("span", { class: "field-error", "data-testid": `${prefix}-error-${name}` });
    return h("label", {}, name.replaceAll("_", " "), input, errors[name]);
  });
  const status = h("p", { class: "muted", role: "status", "data-testid": `${prefix}-status` });
  const element = h("form", { class: "grid-form", onsubmit: (e: Event) => { e.preventDefault(); onSubmit(form); } },
    ...labels, h("button", { type: "submit", "data-testid": `${prefix}-submit` }, submit), ...extra);
  const form: FieldForm = {
    element,
    status,
    run: async (task) => {
      for (const span of Object.values(errors)) span.textContent = "";
      status.className = "muted";
      status.textContent = "…";
      try {
        status.textContent = await task();
      } catch (error) {
        let placed = false;
        if (error instanceof ApiError) {
          for (const name of Object.keys(errors)) {
            const message = error.fieldMessage(name);
            if (message) { errors[name].textContent = message; placed = true; }
          }
        }
        status.className = "error";
        status.textContent = placed ? "see the fields marked" : errorText(error);
      }
    },
  };
  return form;
}
