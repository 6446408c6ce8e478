// One page: a list from the backend (each row deletable), a form posted to it, and an image downloaded
// through the relay. Every call goes through the shared client in utils/relay.js.
const { relay, describe } = require('../../utils/relay.js');

// A page built with Component, as WeChat allows ("使用 Component 构造器构造页面"): lifecycle and
// handlers are methods. https://developers.weixin.qq.com/miniprogram/dev/framework/custom-component/component.html
Component({
  data: { users: [], echoed: '', removed: '', imagePath: '', error: '' },

  methods: {
    onLoad() {
      this.calls = [];
      return Promise.all([this.loadUsers(), this.loadImage()]);
    },

    // Leaving the page stops its calls: their answers would have nowhere to go.
    onUnload() {
      this.calls.forEach((call) => call.abort());
      this.calls = [];
    },

    /** Keeps `call` abortable until it settles; shows its error unless the page aborted it. */
    track(call, onAnswer) {
      this.calls.push(call);
      const settled = () => (this.calls = this.calls.filter((other) => other !== call));
      return call.then(
        (res) => {
          settled();
          onAnswer(res);
        },
        (error) => {
          settled();
          if (error.code !== 'ABORTED') this.setData({ error: describe(error) });
        },
      );
    },

    loadUsers() {
      return this.track(relay.get('api/users', { page: 1 }), (res) => this.setData({ users: res.data.users || [], error: '' }));
    },

    removeUser(event) {
      const id = Number(event.currentTarget.dataset.id);
      return this.track(relay.delete(`api/users/${id}`), (res) =>
        this.setData({ users: this.data.users.filter((user) => user.id !== id), removed: `${res.data.method} ${res.data.id}`, error: '' }),
      );
    },

    submit(event) {
      return this.track(relay.post('api/echo', event.detail.value), (res) => this.setData({ echoed: res.data.body, error: '' }));
    },

    loadImage() {
      return this.track(relay.downloadImage('img/logo.png'), (file) => this.setData({ imagePath: file.tempFilePath }));
    },
  },
});
