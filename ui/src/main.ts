import "./lib/locale-guard";
import { mount } from "svelte";
import "./styles.css";
import "uplot/dist/uPlot.min.css";
import App from "./App.svelte";
import { applyTheme } from "./lib/theme";

// The desktop's light/dark until the Settings choice is read: no flash of the wrong palette.
applyTheme("system");
const target = document.getElementById("app");
if (!target) throw new Error("missing #app");
export default mount(App, { target });
