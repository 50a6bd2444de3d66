"""URLconf of the floor server: only the bare list."""

from django.urls import path

from bench.floor import FloorChannelList

urlpatterns = [path("floor/channels", FloorChannelList.as_view())]
