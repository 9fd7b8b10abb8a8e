export { authDomain } from './auth.domain.js';
export { TOKEN_TTL_SECONDS } from './auth.tokens.js';
