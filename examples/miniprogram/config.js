// Where the relay is. Local: `npm start` in the repository (devtools only, with domain checking off).
// Deployed: your filed HTTPS domain, e.g. 'https://api.example.cn', on the request and downloadFile lists.
// 中转地址：本地调试用 npm start 的地址；上线后换成已备案的 https 域名，并加入 request/downloadFile 合法域名。
module.exports = {
  baseUrl: 'http://127.0.0.1:9000',
};
