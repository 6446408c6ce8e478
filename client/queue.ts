// WeChat runs at most 10 wx.request, wx.uploadFile and wx.downloadFile calls at once, the three counted
// together, per mini program ("wx.request、wx.uploadFile、wx.downloadFile 的最大并发限制是 10 个",
// https://developers.weixin.qq.com/miniprogram/dev/framework/ability/network.html). The queue lives at
// module level, so every client a mini program creates (one per page, say) shares the one limit.

export const WECHAT_MAX_TASKS = 10;

export interface Queue {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createQueue(limit: number): Queue {
  let active = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    active--;
    const start = waiting.shift();
    if (start) start();
  };
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          active++;
          task().then(
            (value) => {
              next();
              resolve(value);
            },
            (error: unknown) => {
              next();
              reject(error);
            },
          );
        };
        if (active < limit) start();
        else waiting.push(start);
      });
    },
  };
}

/** The mini program's one queue. */
export const wechatTasks = createQueue(WECHAT_MAX_TASKS);
