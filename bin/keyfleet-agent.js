#!/usr/bin/env node
// The installed device agent: the bundled agent in dist/ (scripts/build.mjs; npm install builds it
// through the prepare script).
import module from "node:module";

module.enableCompileCache?.();
await import("../dist/keyfleet-agent.js");
