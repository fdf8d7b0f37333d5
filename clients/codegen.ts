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
      presetConfig: {
        fragmentMasking: false,
        // persisted-documents.json (hex sha256 -> the text the preset prints) beside graphql.ts, and
        // each typed document's `__meta__.hash`: the TypeScript client sends `sha256:<hash>` as its
        // documentId; `incentives documents extract` puts these texts in trusted-documents.json.
        persistedDocuments: { hashAlgorithm: "sha256" },
      },
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
