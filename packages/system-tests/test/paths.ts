import { fileURLToPath } from 'node:url';

/** The repository root, for reading README.md and finding the apps. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The built entry point of an app, as `npm start` runs it. */
export const entry = (app: string) => `${root}apps/${app}/dist/main.js`;
