from typing import Any

import pytest

from channels_app.actors import Actor
from channels_app.services import channels as channel_services


@pytest.mark.parametrize("sort", [None, "name,desc", "createdTime,asc"])
def test_pages_from_either_end_tile_the_list_exactly(
    app_client: Any, app_actor: Actor, jane: Any, sort: str | None
) -> None:
    """Deep pages in the second half are read from the far end of the index: every page must
    still hold exactly its rows, in order, with no overlap or gap."""
    for index in range(7):
        channel_services.create_channel(
            actor=app_actor, type="PUBLIC", name=f"c{index}", creator=jane
        )
    suffix = f"&sort={sort}" if sort else ""
    full = app_client.get(f"/v1/channels?page=0&size=100{suffix}").json()
    expected = [channel["id"] for channel in full["_embedded"]["channels"]]
    seen: list[int] = []
    for page in range(4):
        body = app_client.get(f"/v1/channels?page={page}&size=2{suffix}").json()
        seen += [channel["id"] for channel in body["_embedded"]["channels"]]
        assert body["page"] == {"size": 2, "totalElements": 7, "totalPages": 4, "number": page}
    assert seen == expected
