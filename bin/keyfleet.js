#!/usr/bin/env node
// The installed entry point: the compiled CLI (npm install builds it through the prepare script).
import "../dist/cli/entry.js";
