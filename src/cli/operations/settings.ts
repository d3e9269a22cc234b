import { KeyfleetError, quoted } from "../../domain/index.js";
import { operation } from "./operation.js";

/** The authority settings `config set` may change, by the name users type. */
export const settingNames = ["public-url"] as const;
export type SettingName = (typeof settingNames)[number];

export const settingsOperations = {
  "config.show": operation({
    run: async (app, _input: Record<string, never>, context) => ({
      publicUrl: await app.authority.publicUrl(),
      database: app.database.kind,
      dataDir: app.config.databaseUrl ? null : app.config.dataDir,
      server: context.server ?? null,
      // Which stores keys may be in; the token by module and label (its PIN is never shown).
      keyStores: app.keyStore.kinds,
      pkcs11: app.config.pkcs11 ? { module: app.config.pkcs11.module, token: app.config.pkcs11.token } : null,
      publicUrlHistory: (await app.authority.publicUrlHistory()).map((c) => ({
        ...c,
        changedAt: c.changedAt.toISOString(),
      })),
    }),
  }),
  "config.set": operation({
    run: async (app, input: { name: string; value: string }, context) => {
      if (input.name !== "public-url") {
        throw new KeyfleetError(
          "invalid-configuration",
          `unknown setting ${quoted(input.name)}; settings: ${settingNames.join(", ")}`,
        );
      }
      const previous = await app.authority.setPublicUrl(String(input.value), context.actor);
      return { name: input.name, value: await app.authority.publicUrl(), previous };
    },
  }),
};
