"""An external task worker written against Camunda's official Python client
(camunda-external-task-client-python3), as a Camunda 7 user would write it.
Only the base URL and the credentials come from outside:

  ENGINE_REST    the server's Camunda REST base, e.g. http://127.0.0.1:8080/engine-rest
  ENGINE_USER    the account
  ENGINE_SECRET  its password or one of its API tokens

(PYTHONPATH points at the installed client.) It handles four topics, prints
one JSON line per thing it did, and exits once each topic's work is done:

  greet   reads typed variables and completes with variables
  flaky   fails once with a retry left, then completes on the retry
  slow    completes
  charge  reports a BPMN error (caught by a boundary event)
"""

import json
import os
import sys
import time

from camunda.external_task.external_task_worker import ExternalTaskWorker

done = set()


def say(what):
    sys.stdout.write(json.dumps(what) + "\n")
    sys.stdout.flush()


def handle(task):
    topic = task.get_topic_name()
    if topic == "greet":
        name = task.get_variable("name")
        amount = task.get_variable("amount")
        customer = task.get_variable("customer")
        meta = task.get_variable("amount", with_meta=True)
        say({"event": "greet", "name": name, "amount": amount,
             "amountType": meta["type"], "customer": customer})
        done.add(topic)
        return task.complete({"greeting": "Hello " + name, "doubled": amount * 2,
                              "vip": json.loads(customer)["tier"] == "gold"
                              if isinstance(customer, str) else customer["tier"] == "gold"})
    if topic == "flaky":
        retries = task._context.get("retries")
        if retries is None:
            say({"event": "flaky failed"})
            return task.failure("the printer is out of paper", "tray 2 empty", 1, 200)
        say({"event": "flaky retried", "retries": retries,
             "errorMessage": task._context.get("errorMessage")})
        done.add(topic)
        return task.complete({"flakyRetries": retries})
    if topic == "slow":
        done.add(topic)
        return task.complete({})
    if topic == "charge":
        say({"event": "charge declined"})
        done.add(topic)
        return task.bpmn_error("NO_CREDIT", "card declined")
    raise Exception("unexpected topic " + topic)


def main():
    config = {
        "maxTasks": 1,
        "lockDuration": 20000,
        "asyncResponseTimeout": 1000,
        "retries": 3,
        "retryTimeout": 200,
        "sleepSeconds": 0,
        "auth_basic": {"username": os.environ["ENGINE_USER"],
                       "password": os.environ["ENGINE_SECRET"]},
    }
    worker = ExternalTaskWorker(worker_id="py-worker",
                                base_url=os.environ["ENGINE_REST"], config=config)
    deadline = time.time() + 50
    while len(done) < 4:
        if time.time() > deadline:
            say({"event": "error", "message": "timed out", "done": sorted(done)})
            sys.exit(2)
        try:
            worker.fetch_and_execute(["greet", "flaky", "slow", "charge"], handle)
        except Exception as e:  # no task found yet, or a refusal to report
            if "no External Task found" not in str(e):
                say({"event": "error", "message": str(e)})
                sys.exit(3)
    say({"event": "all done"})


main()
