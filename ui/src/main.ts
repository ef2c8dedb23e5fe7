import "./lib/locale-guard";
import { mount } from "svelte";
import "./styles.css";
import "uplot/dist/uPlot.min.css";
import App from "./App.svelte";

const target = document.getElementById("app");
if (!target) throw new Error("missing #app");
export default mount(App, { target });
