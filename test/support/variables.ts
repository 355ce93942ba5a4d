import { SETTING_DEFINITIONS } from '@philotes/config';

/** Variables the apps read that are not settings (see libs/config/src/load.ts and the image). */
export const NOT_SETTINGS = ['PHILOTES_CONFIG_FILE', 'NODE_ENV', 'PHILOTES_APP'] as const;

/** Every variable a deployment may give an app: the settings class's, derived, plus NOT_SETTINGS. */
export const ACCEPTED_VARIABLES: ReadonlySet<string> = new Set([...SETTING_DEFINITIONS.map((d) => d.env), ...NOT_SETTINGS]);

/** Settings that must come from Secrets. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set(SETTING_DEFINITIONS.filter((d) => d.secret).map((d) => d.env));
