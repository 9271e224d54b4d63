"""virtio_pci_dev under constrained-random traffic on every queue: random chains (direct, indirect, zero-length
buffers), random kick and reap timing, MSI-X or INTx, random backend latency and order, and SUSPEND / resume cycles
in between. Every event is judged by the golden model, every used element compared with the backend's answer."""

from .dev_tb import TIMEOUT, DevTB, random_chain
from .seeded import seeded_test


@seeded_test(**TIMEOUT)
async def test_random(dut, rng):
    tb = DevTB(dut, rng)
    await tb.reset()
    await tb.set_msix(rng.random() < 0.7)
    driver = tb.driver()
    suspend = driver.has_feature  # bound after init; SUSPEND is offered by every parameter set
    rings = await tb.start(driver, tb.queue_plan(min(rng.choice([8, 16, 64]), tb.params.QUEUE_SIZE_MAX)))
    owed = {q: 0 for q in range(len(rings))}
    for _ in range(40):
        tb.backend.latency = rng.choice([(0, 5), (0, 60), (50, 400)])
        tb.backend.reorder = rng.random() < 0.7
        for q, vq in enumerate(rings):
            for _ in range(rng.randint(0, 4)):
                readable, writable = random_chain(rng, max_bufs=rng.choice([1, 3, 5]), max_len=rng.choice([16, 300]))
                indirect = len(readable) + len(writable) > 1 and rng.random() < 0.3
                if (1 if indirect else len(readable) + len(writable)) > vq.num_free:
                    break
                vq.add_chain(readable, writable, **({"indirect": True, "indirect_split": 0} if indirect else {}))
                owed[q] += 1
            if rng.random() < 0.8:
                await driver.kick(q)
        await tb.cycles(rng.randint(0, 300))
        if rng.random() < 0.1 and suspend(tb.params.F_SUSPEND_BIT):
            await driver.suspend()
            await tb.cycles(rng.randint(0, 100))
            await driver.resume()
        for q, vq in enumerate(rings):
            used = vq.reap()
            tb.check_answers(vq, used)
            owed[q] -= len(used)
    for q, vq in enumerate(rings):
        await driver.kick_always(q)
        tb.check_answers(vq, await driver.wait_used(vq, owed[q]))
    await tb.finish()
