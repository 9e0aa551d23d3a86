// An external task worker written against Camunda's official JavaScript client
// (camunda-external-task-client-js), as a Camunda 7 user would write it. Only
// the base URL and the credentials come from outside:
//
//   ENGINE_REST   the server's Camunda REST base, e.g. http://127.0.0.1:8080/engine-rest
//   ENGINE_USER   the account
//   ENGINE_SECRET its password or one of its API tokens
//   CLIENT_DIR    where npm installed the client (node_modules below it)
//
// It handles four topics, prints one JSON line per thing it did, and exits
// once each topic's work is done:
//
//   greet  reads typed variables and completes with typed variables
//   flaky  fails once with retries left, then completes on the retry
//   slow   extends its short lock, works past the first lock's end, completes
//   charge throws a BPMN error with a variable (caught by a boundary event)

const path = require("path");
const { pathToFileURL } = require("url");

function say(what) {
  process.stdout.write(JSON.stringify(what) + "\n");
}

async function main() {
  const entry = path.join(
    process.env.CLIENT_DIR,
    "node_modules",
    "camunda-external-task-client-js",
    "index.js"
  );
  const { Client, BasicAuthInterceptor, Variables } = await import(
    pathToFileURL(entry).href
  );
  const client = new Client({
    baseUrl: process.env.ENGINE_REST,
    workerId: "js-worker",
    maxTasks: 5,
    interval: 100,
    asyncResponseTimeout: 2000,
    lockDuration: 20000,
    interceptors: new BasicAuthInterceptor({
      username: process.env.ENGINE_USER,
      password: process.env.ENGINE_SECRET,
    }),
  });
  const done = new Set();
  const finish = (topic) => {
    done.add(topic);
    if (done.size === 4) {
      client.stop();
      say({ event: "all done" });
      setTimeout(() => process.exit(0), 50);
    }
  };
  const guard = (topic, handler) => async (args) => {
    try {
      await handler(args);
    } catch (e) {
      say({ event: "error", topic, message: String(e && e.message) });
      process.exit(2);
    }
  };

  client.subscribe(
    "greet",
    guard("greet", async ({ task, taskService }) => {
      const name = task.variables.get("name");
      const amount = task.variables.get("amount");
      const customer = task.variables.get("customer");
      const amountType = task.variables.getTyped("amount").type;
      say({ event: "greet", name, amount, amountType, customer });
      const out = new Variables();
      out.set("greeting", `Hello ${name}`);
      out.set("doubled", amount * 2);
      out.set("big", 5000000000);
      out.set("ratio", 0.25);
      out.set("vip", customer.tier === "gold");
      out.set("tags", ["a", "b"]);
      out.setTyped("due", {
        type: "Date",
        value: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
        valueInfo: {},
      });
      await taskService.complete(task, out);
      finish("greet");
    })
  );

  client.subscribe(
    "flaky",
    guard("flaky", async ({ task, taskService }) => {
      if (task.retries === null || task.retries === undefined) {
        await taskService.handleFailure(task, {
          errorMessage: "the printer is out of paper",
          errorDetails: "tray 2 empty",
          retries: 1,
          retryTimeout: 200,
        });
        say({ event: "flaky failed" });
        return;
      }
      say({
        event: "flaky retried",
        retries: task.retries,
        errorMessage: task.errorMessage,
      });
      const out = new Variables();
      out.set("flakyRetries", task.retries);
      out.set("flakyError", task.errorMessage);
      await taskService.complete(task, out);
      finish("flaky");
    })
  );

  client.subscribe(
    "slow",
    { lockDuration: 1000 },
    guard("slow", async ({ task, taskService }) => {
      await taskService.extendLock(task, 10000);
      say({ event: "slow extended" });
      await new Promise((r) => setTimeout(r, 1600));
      await taskService.complete(task);
      say({ event: "slow completed" });
      finish("slow");
    })
  );

  client.subscribe(
    "charge",
    guard("charge", async ({ task, taskService }) => {
      const why = new Variables();
      why.set("declineReason", "limit");
      await taskService.handleBpmnError(task, "NO_CREDIT", "card declined", why);
      say({ event: "charge declined" });
      finish("charge");
    })
  );
}

main().catch((e) => {
  say({ event: "error", message: String(e && e.stack) });
  process.exit(3);
});
