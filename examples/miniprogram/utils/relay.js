// The mini program's one relay client. Every page requires this module, so all of them share its
// interceptors and its cookie jar (and, as every client does, WeChat's limit of 10 calls at once).
// libs/mp-relay.js is the client, copied there by `npm run build` (or copy dist/client/index.js yourself).
const { createRelay, RelayError } = require('../libs/mp-relay.js');
const config = require('../config.js');

const relay = createRelay({ baseUrl: config.baseUrl, cookies: true });

// One loading indicator however many calls are running.
let running = 0;
const started = () => {
  if (running++ === 0) wx.showLoading({ title: '加载中' });
};
// noConflict: hiding the indicator must not close an error toast shown meanwhile (base library 2.22.1+).
const finished = () => {
  if (--running === 0) wx.hideLoading({ noConflict: true });
};

relay.interceptors.request.use((call) => {
  started();
  const token = wx.getStorageSync('token');
  if (token) call.header.Authorization = `Bearer ${token}`;
  return call;
});

relay.interceptors.response.use(
  (res) => {
    finished();
    return res;
  },
  (error) => {
    finished();
    // An aborted call is the page leaving, not a failure to show.
    if (error.code !== 'ABORTED') wx.showToast({ title: describe(error), icon: 'none' });
    throw error;
  },
);

/** What to show for a failed call: the relay's own errors name their code. */
function describe(error) {
  if (error instanceof RelayError) return `${error.code} (${error.statusCode}): ${error.message}`;
  return String(error);
}

module.exports = { relay, describe };
