export { luaScript } from './lua-script.js';
