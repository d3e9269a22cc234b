import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "keyfleet-data/", "coverage/"] },
  js.configs.recommended,
  { languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration in src/config.ts only." },
      ],
    },
  },
  {
    // DESIGN §2: routes are handed the services they use, so none can reach the database or a key store.
    files: ["src/http/routes/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/app.js"], message: "Routes get the services they use, not the app." },
            {
              group: ["**/store/index.js", "**/crypto/index.js"],
              message: "Routes reach storage and keys only through services.",
            },
          ],
        },
      ],
    },
  },
  {
    // DESIGN §2: the device agent runs on devices: crypto, pki and domain (through their index.ts) and
    // node built-ins, never a server module.
    files: ["src/agent/**"],
    ignores: ["src/agent/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(?!node:|\\./[^/]+$|\\.\\./(crypto|pki|domain)/index\\.js$)",
              message:
                "The agent imports node built-ins, its own files, and crypto, pki and domain through their index.ts only.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/config.ts", "test/**", "bench/**", "scripts/**", "vitest.config.ts", "**/*.test.ts"],
    rules: { "no-restricted-properties": "off" },
  },
);
