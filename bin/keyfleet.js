#!/usr/bin/env node
// The installed entry point: the bundled CLI in dist/ (scripts/build.mjs; npm install builds it
// through the prepare script).
import module from "node:module";

// Node ≥ 22.1 keeps V8's compiled code between runs when asked; Node 20 has no such API (a no-op).
module.enableCompileCache?.();
await import("../dist/keyfleet.js");
