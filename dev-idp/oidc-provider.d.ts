// oidc-provider 9 ships no type declarations (and @types/oidc-provider is not a dependency):
// without this, strict type-checking refuses the import. Its values are typed `any`.
declare module 'oidc-provider'
