// One page: a list from the backend, a form posted to it, and an image downloaded through the relay.
// libs/mp-relay.js is the client, copied there by `npm run build` (or copy dist/client/index.js yourself).
const { createRelay, RelayError } = require('../../libs/mp-relay.js');
const config = require('../../config.js');

/** What to show for a failed call: the relay's own errors name their code. */
function describe(error) {
  if (error instanceof RelayError) return `${error.code} (${error.statusCode}): ${error.message}`;
  return String(error);
}

Page({
  data: { users: [], echoed: '', imagePath: '', error: '' },

  onLoad() {
    this.relay = createRelay({ baseUrl: config.baseUrl, cookies: true });
    return Promise.all([this.loadUsers(), this.loadImage()]);
  },

  loadUsers() {
    return this.relay.get('api/users', { page: 1 }).then(
      (res) => this.setData({ users: res.data.users || [], error: '' }),
      (error) => this.setData({ error: describe(error) }),
    );
  },

  submit(event) {
    return this.relay.post('api/echo', event.detail.value).then(
      (res) => this.setData({ echoed: res.data.body, error: '' }),
      (error) => this.setData({ error: describe(error) }),
    );
  },

  loadImage() {
    return this.relay.downloadImage('img/logo.png').then(
      (file) => this.setData({ imagePath: file.tempFilePath }),
      (error) => this.setData({ error: describe(error) }),
    );
  },
});
