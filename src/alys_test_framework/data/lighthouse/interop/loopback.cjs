// Preloaded into @ethereumjs/client (node --require): its devp2p listeners (RLPx TCP and the
// discovery UDP socket) bind 0.0.0.0 with no option to change it; this rewrites every
// wildcard or missing host to 127.0.0.1 so an interop run never listens beyond loopback.
const net = require('net'); const dgram = require('dgram');
const LOOP = '127.0.0.1'; const ANY = new Set(['0.0.0.0', '::', '', undefined, null]);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function' || ANY.has(args[1]))) {
    if (typeof args[1] === 'function') args.splice(1, 0, LOOP); else args[1] = LOOP;
  } else if (args[0] && typeof args[0] === 'object' && ANY.has(args[0].host)) { args[0] = { ...args[0], host: LOOP }; }
  return listen.apply(this, args);
};
const bind = dgram.Socket.prototype.bind;
dgram.Socket.prototype.bind = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function' || ANY.has(args[1]))) {
    if (typeof args[1] === 'function') args.splice(1, 0, LOOP); else args[1] = LOOP;
  } else if (args[0] && typeof args[0] === 'object' && ANY.has(args[0].address)) { args[0] = { ...args[0], address: LOOP }; }
  return bind.apply(this, args);
};
