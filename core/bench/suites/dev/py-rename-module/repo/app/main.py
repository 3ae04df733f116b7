from app.helpers import slug


def page_url(title):
    return "/pages/" + slug(title)
