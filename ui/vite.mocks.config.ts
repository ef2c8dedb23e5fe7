import { defineConfig } from "vite";

// Builds the Tauri IPC mock used by the Playwright tests into its own IIFE file
// (dist-mocks/mock-ipc.js). It is injected with page.addInitScript and never part of dist/.
export default defineConfig({
  build: {
    outDir: "dist-mocks",
    emptyOutDir: true,
    target: "es2022",
    lib: { entry: "src/mocks/install.ts", name: "SwitchyardMock", formats: ["iife"], fileName: () => "mock-ipc.js" },
  },
});
