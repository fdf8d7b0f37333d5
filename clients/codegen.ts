// Typed documents for the SPA's operations (operations/*.graphql) from the committed SDL.
// Run from clients/: `npx graphql-codegen --config codegen.ts`; then `npx tsc -p tsconfig.json`.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  // The SPA examples' operations, and the console's (api/static/console/, checked by tsconfig.console.json).
  documents: ["operations/*.graphql", "../api/static/console/operations.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "generated/ts/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // Every scalar is named here: a new one fails generation instead of becoming `any`.
        strictScalars: true,
        scalars: { Date: "string", DateTime: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
