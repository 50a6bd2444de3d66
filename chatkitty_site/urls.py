from django.contrib import admin
from django.urls import include, path
from oauth2_provider import views as oauth_views

urlpatterns = [
    # OAuth2 client credentials: HTTP Basic client id and secret, grant_type=client_credentials.
    path("oauth/token", oauth_views.TokenView.as_view(), name="oauth-token"),
    path("v1/", include(("channels_app.api.urls", "api"), namespace="api")),
    path("admin/", admin.site.urls),
    path("", include(("channels_app.web.urls", "web"), namespace="web")),
]

handler404 = "channels_app.web.errors.not_found"
handler500 = "channels_app.web.errors.server_error"
