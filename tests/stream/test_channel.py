import threading
import time

import pytest

from stream.channel import Channel, ChannelClosed


def test_block_policy_keeps_every_item_in_order():
    channel = Channel[int](2)
    received = []

    def consume():
        try:
            while True:
                received.append(channel.get())
                time.sleep(0.001)  # a slow consumer: the producer must wait, not drop
        except ChannelClosed:
            pass

    consumer = threading.Thread(target=consume)
    consumer.start()
    for item in range(50):
        channel.put(item)
    channel.close()
    consumer.join(2)
    assert received == list(range(50)) and channel.dropped == 0


def test_latest_policy_drops_the_oldest_and_counts():
    channel = Channel[int](1, "latest")
    for item in range(5):
        channel.put(item)  # never blocks
    assert channel.get() == 4 and channel.dropped == 4


def test_close_wakes_a_blocked_get_and_put():
    empty, full = Channel[int](1), Channel[int](1)
    full.put(0)
    errors = []

    def wait(call):
        try:
            call()
        except ChannelClosed:
            errors.append(call)

    threads = [
        threading.Thread(target=wait, args=(empty.get,)),
        threading.Thread(target=wait, args=(lambda: full.put(1),)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    empty.close()
    full.close()
    for thread in threads:
        thread.join(1)
    assert not any(thread.is_alive() for thread in threads) and len(errors) == 2


def test_a_closed_channel_drains_then_raises_unless_discarded():
    channel = Channel[int](3)
    channel.put(1)
    channel.put(2)
    channel.close()
    assert [channel.get(), channel.get()] == [1, 2]
    with pytest.raises(ChannelClosed):
        channel.get()
    discarded = Channel[int](3)
    discarded.put(1)
    discarded.close(discard=True)
    with pytest.raises(ChannelClosed):
        discarded.get()


@pytest.mark.parametrize(("capacity", "policy"), [(0, "block"), (1, "newest")])
def test_bad_settings_are_rejected(capacity, policy):
    with pytest.raises(ValueError):
        Channel(capacity, policy)
