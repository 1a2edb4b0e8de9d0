"""The real connectors and the fakes implement the delivery protocols (connectors/delivery.py),
and `channel_for` refuses what is not a destination before any connection is looked up."""

from __future__ import annotations

import pytest

from connectors.channels import channel_for
from connectors.delivery import Channel, Drop, PackageChannel
from connectors.http_receiver import HttpReceiver
from connectors.package_receiver import PackageReceiver
from connectors.sftp_drop import SftpDrops
from connectors.testing import FakeAuthority, FakeReceiver, LocalDrops


def test_every_sender_and_every_fake_is_a_channel_of_its_kind(tmp_path):
    with HttpReceiver("http://127.0.0.1:9", "k", "s") as county, PackageReceiver("http://127.0.0.1:9", "k", "s") as authority:
        assert isinstance(county, Channel) and not isinstance(county, PackageChannel) and not isinstance(county, Drop)
        assert isinstance(authority, PackageChannel)
    drops = SftpDrops("127.0.0.1", 22, "gw", key_file="k", known_hosts="k")
    assert isinstance(drops, Drop) and not isinstance(drops, Channel)
    assert isinstance(FakeReceiver(), Channel) and not isinstance(FakeReceiver(), PackageChannel)
    assert isinstance(FakeAuthority(), PackageChannel)
    assert isinstance(LocalDrops(tmp_path), Drop) and not isinstance(LocalDrops(tmp_path), Channel)


@pytest.mark.parametrize(("destination", "packages", "message"), [
    ("county_system_3701", False, "not a county code: '3701'"),
    ("cross_province", False, "not a work-order destination: 'cross_province'"),
    ("grid", True, "not a package destination: 'grid'"),
    ("gateway_sftp", True, "not a package destination: 'gateway_sftp'"),
    ("somewhere", False, "not a work-order destination: 'somewhere'"),
])
def test_channel_for_refuses_what_is_not_a_destination(destination, packages, message):
    with pytest.raises(ValueError, match=message):
        channel_for(destination, packages=packages)


def test_a_fake_receiver_answers_as_the_protocol_says():
    from connectors.http_receiver import make_item

    receiver = FakeReceiver("county_system_370102", reject=lambda item: ("0002", "户号不存在") if item["rowguid"] == "r2" else None)
    items = [make_item(rowguid=r, utility="water", version=1, correction=False, record={}) for r in ("r1", "r2")]
    first = receiver.deliver(items, batch_id="b1")
    assert [(o.status, o.code) for o in first] == [("delivered", "0000"), ("rejected", "0002")]
    again = receiver.deliver(items[:1], batch_id="b2")
    assert (again[0].code, again[0].receipt_id) == ("0201", first[0].receipt_id)
    cancel = {"idempotency_key": "r1:water:1:cancel", "rowguid": "r1", "utility": "water", "version": 1, "reason_code": "RECORD_WITHDRAWN",
              "reason": "撤回"}
    assert [o.code for o in receiver.cancel([cancel, {**cancel, "idempotency_key": "r9:water:1:cancel", "rowguid": "r9"}])] == ["0000", "0404"]
    assert receiver.cancel([cancel])[0].code == "0201"
    receiver.publish_result("r1:water:1", handled_at="2026-11-25T10:15:00")
    pages = list(receiver.feed_pages(None))
    assert [(p.next, p.more, len(p.entries)) for p in pages] == [("1", False, 1)]
    assert list(receiver.feed_pages("1"))[0].entries == []
    with pytest.raises(ValueError, match="only accepted items"):
        receiver.publish_result("r2:water:1", handled_at="2026-11-25T10:15:00")
