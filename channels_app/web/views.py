from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("web chat pages: see issue 5")


def login_placeholder(request: HttpRequest) -> HttpResponse:
    return HttpResponse("login")
