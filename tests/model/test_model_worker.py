"""The model worker process: requests, batching, timeouts, cancellation, bad paths."""

import asyncio
import time

import pytest


from support.tiny import build_tiny_adapter, build_tiny_checkpoint
from tracecot.model.worker_client import (ModelWorker, WorkerCancelled, WorkerError,
                                   WorkerTimeout)

PROMPT = "<|im_start|>user\nsay something<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tinyw") / "ckpt")


@pytest.fixture(scope="module")
def worker(tiny_dir):
    w = ModelWorker(model=str(tiny_dir), dtype="float32", device="cpu", timeout=60,
                    kill_grace=1.0, env={"TRACECOT_WORKER_DEBUG": "1", "TRACECOT_THREADS": "1"})
    ready = w.wait_ready(timeout=120)
    assert ready["model"]["path"] == str(tiny_dir), ready
    yield w
    w.close()


def test_generate_and_ping(worker):
    pong = worker.call("ping")
    assert pong["pong"] is True
    res = worker.call("generate", {"prompt": PROMPT, "max_new_tokens": 5})
    assert len(res) == 1 and res[0]["tokens"] <= 5 and isinstance(res[0]["text"], str)


def test_queued_requests_are_batched_and_answered_in_order(worker):
    blocker = worker.request("sleep", {"seconds": 1.0})     # lets the next six queue up
    futs = [worker.request("generate", {"prompt": PROMPT + str(i), "max_new_tokens": 4})
            for i in range(6)]
    outs = [f.result(timeout=60) for f in futs]
    singles = [worker.call("generate", {"prompt": PROMPT + str(i), "max_new_tokens": 4})
               for i in range(6)]
    assert [o[0]["text"] for o in outs] == [s[0]["text"] for s in singles]
    assert blocker.result() == {"slept": True}
    assert worker.call("info")["stats"]["largest_batch"] >= 6


def test_hung_request_times_out_and_worker_restarts(worker):
    pid = worker.call("ping")["pid"]
    restarts = worker.restarts
    hung = worker.request("sleep", {"seconds": 600}, timeout=0.5)
    queued = worker.request("ping", timeout=60)            # waits behind the hung one
    t0 = time.monotonic()
    with pytest.raises(WorkerTimeout):
        hung.result(timeout=10)
    assert time.monotonic() - t0 < 5
    new = queued.result(timeout=120)                       # resent to the new worker
    assert new["pong"] and new["pid"] != pid and worker.restarts == restarts + 1


def test_cancel_queued_request(worker):
    blocker = worker.request("sleep", {"seconds": 1.0})
    victim = worker.request("generate", {"prompt": PROMPT, "max_new_tokens": 3})
    assert worker.cancel(victim.request_id)
    with pytest.raises(WorkerCancelled):
        victim.result(timeout=10)
    assert blocker.result(timeout=30) == {"slept": True}
    assert worker.cancel(victim.request_id) is False        # already finished
    restarts = worker.restarts
    assert worker.call("ping")["pong"] and worker.restarts == restarts   # no restart needed


def test_cancel_running_generation(worker):
    fut = worker.request("generate", {"prompt": PROMPT, "max_new_tokens": 3000,
                                         "min_new_tokens": 3000})
    time.sleep(1.0)
    restarts = worker.restarts
    assert worker.cancel(fut.request_id)
    with pytest.raises(WorkerCancelled):
        fut.result(timeout=10)
    assert worker.call("ping")["pong"]
    time.sleep(1.5)                 # past kill_grace: the worker acknowledged, no restart
    assert worker.restarts == restarts


def test_bad_adapter_keeps_worker_usable(worker, tiny_dir, tmp_path):
    with pytest.raises(WorkerError) as e:
        worker.load(str(tiny_dir), str(tmp_path / "nope")).result(timeout=60)
    assert e.value.type == "ModelLoadError" and str(tmp_path / "nope") in e.value.message
    assert worker.call("generate", {"prompt": PROMPT, "max_new_tokens": 2})
    adapter = build_tiny_adapter(tiny_dir, tmp_path / "lora")
    info = worker.load(str(tiny_dir), str(adapter)).result(timeout=60)
    assert info["adapter"] == str(adapter)
    worker.load(str(tiny_dir)).result(timeout=60)          # back to the base model


def test_async_call_does_not_block_the_event_loop(worker):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1
        t = asyncio.create_task(ticker())
        res = await worker.acall("sleep", {"seconds": 0.5})
        t.cancel()
        return res, ticks
    res, ticks = asyncio.run(main())
    assert res == {"slept": True} and ticks >= 10


def test_bad_model_path_is_reported_and_recoverable(tmp_path, tiny_dir):
    w = ModelWorker(model=str(tmp_path / "missing-model"), timeout=60,
                    env={"TRACECOT_THREADS": "1"})
    try:
        ready = w.wait_ready(timeout=60)
        assert ready["model"] is None and "missing-model" in ready["error"]
        with pytest.raises(WorkerError, match="no model loaded.*missing-model"):
            w.call("generate", {"prompt": PROMPT})
        assert w.load(str(tiny_dir), timeout=60).result()["path"] == str(tiny_dir)
        assert w.call("generate", {"prompt": PROMPT, "max_new_tokens": 2})
        with pytest.raises(WorkerError, match="unknown method"):
            w.call("frobnicate")
    finally:
        w.close()


def test_predict_through_the_worker(worker):
    from tracecot.model.predict import Prediction
    futs = [worker.predict_output("def f(x):\n    return x * 2", f"f({i})", max_new_tokens=6)
            for i in range(3)]
    preds = [Prediction.from_json(f.result(timeout=120)[0]) for f in futs]
    assert [p.actual for p in preds] == ["0", "2", "4"]
    assert all(p.kind == "output" and p.tokens <= 6 for p in preds)
    ins = worker.predict_inputs("def f(x):\n    return x * 2", "f", "4", k=2,
                                max_new_tokens=6).result(timeout=120)
    assert len(ins) == 2 and all(Prediction.from_json(d).kind == "input" for d in ins)
