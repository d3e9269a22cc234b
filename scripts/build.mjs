#!/usr/bin/env node
/**
 * `npm run build` (and npm's prepare step): the installed `keyfleet` command as a few bundled ES
 * modules in dist/, which bin/keyfleet.js loads. Node 20 resolves, reads and compiles every ES module
 * file on its own (Kysely alone is 262 files), so a command that loaded the app graph from
 * node_modules spent most of its time in the module loader; bundled, it reads a handful of files.
 * Each dynamic import() stays a boundary (`splitting`): `--help` loads the command tree only, a
 * command loads the app when it runs, `serve` alone loads the HTTP server. No type checking here:
 * `npm run lint` runs tsc. Usage: node scripts/build.mjs [outdir] (default dist).
 */
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = resolve(root, process.argv[2] ?? "dist");

/**
 * Entry points. Every output is written flat into `outdir`, so a file a module finds relative to
 * itself (`new URL("./csr-worker.js", import.meta.url)` in src/ca/worker-csr-reader.ts) must be an
 * entry here under that name; the check after the build says so if one is missing.
 */
const entryPoints = {
  keyfleet: "src/cli/entry.ts",
  // The device agent: its own small bundle (crypto, pki and node built-ins only; pkcs11js stays external).
  "keyfleet-agent": "src/agent/entry.ts",
  "csr-worker": "src/ca/csr-worker.ts",
};

/**
 * Left to load from node_modules at run time: PGlite and Cedar find their wasm files relative to
 * their own packages; pg-native is pg's optional native binding, not installed.
 */
const external = ["@electric-sql/pglite", "@cedar-policy/cedar-wasm", "pg-native"];

/**
 * pg 8 asks at load time whether it runs on Cloudflare Workers: without a global `navigator` (Node
 * 20 has none; Node 21+ has) it constructs a `Response`, which makes Node load its bundled undici,
 * ≈ 18 ms of every command that opens PostgreSQL, for an answer that is always "no" here. The
 * bundle answers it at build time; the build fails if pg changes that code, so this is revisited.
 */
const pgNotOnCloudflare = {
  name: "pg-not-on-cloudflare",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const probe = "if (isCloudflareRuntime()) {";
      if (source.split(probe).length !== 2) {
        throw new Error(
          `${args.path} no longer has "${probe}" once: revisit pgNotOnCloudflare in scripts/build.mjs`,
        );
      }
      return { contents: source.replace(probe, "if (false) {"), loader: "js" };
    });
  },
};

/**
 * A package with a native addon (binding.gyp, or a loader such as node-gyp-build; pkcs11js for HSMs
 * is one) loads its `.node` file relative to its own directory, which a bundle cannot do: such a
 * package stays in node_modules without being listed, so adding one breaks neither the build nor,
 * worse, the bundle at run time.
 */
const nativeAddonsExternal = {
  name: "native-addons-external",
  setup(b) {
    const native = new Map();
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path
        .split("/")
        .slice(0, args.path.startsWith("@") ? 2 : 1)
        .join("/");
      if (name.startsWith("node:") || builtinModules.includes(name)) return undefined;
      if (!native.has(name)) native.set(name, hasNativeAddon(name, args.resolveDir));
      return native.get(name) ? { path: args.path, external: true } : undefined;
    });
  },
};

function hasNativeAddon(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, "node_modules", name);
    if (existsSync(join(pkg, "package.json"))) {
      const { gypfile, dependencies = {} } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
      const loaders = ["bindings", "node-gyp-build", "prebuild-install", "node-addon-api"];
      return (
        existsSync(join(pkg, "binding.gyp")) || gypfile === true || loaders.some((d) => d in dependencies)
      );
    }
    if (dirname(dir) === dir) return false;
  }
}

await rm(outdir, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external,
  // Bundled CommonJS packages (pg, pino, fastify…) call require(); an ES module has none of its own.
  banner: {
    js: 'import { createRequire as __keyfleetCreateRequire } from "node:module"; const require = __keyfleetCreateRequire(import.meta.url);',
  },
  // Class and function names as written (error names, stack traces, libraries that log them).
  keepNames: true,
  sourcemap: "linked",
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
  plugins: [pgNotOnCloudflare, nativeAddonsExternal],
});

// Every `new URL("./x", import.meta.url)` in the output must find its file beside it.
const missing = [];
for (const file of Object.keys(metafile.outputs).filter((f) => f.endsWith(".js"))) {
  const text = await readFile(join(root, file), "utf8");
  for (const [, target] of text.matchAll(
    /new URL\(\s*["'](\.\.?\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
  )) {
    if (target.endsWith(".ts")) continue; // the source-tree branch (run through tsx), never taken here
    if (!existsSync(join(root, dirname(file), target))) missing.push(`${file} → ${target}`);
  }
}
if (missing.length > 0) {
  console.error(
    `build: these files are loaded relative to the bundle but were not emitted; add them to entryPoints in scripts/build.mjs:\n  ${missing.join("\n  ")}`,
  );
  process.exit(1);
}
console.log(
  `build: ${relative(root, outdir)}/ (${Object.keys(metafile.outputs).filter((f) => f.endsWith(".js")).length} files)`,
);
