"""Every page needs a login; the API authenticates itself (tokens or session) and answers 401."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequired


class LoginRequiredMiddleware(_DjangoLoginRequired):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/") and not getattr(view_func, "linewatch_docs", False):
            return None  # each API operation checks its own auth and answers 401, not a redirect
        return super().process_view(request, view_func, view_args, view_kwargs)
