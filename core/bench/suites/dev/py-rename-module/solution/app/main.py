from app.text_tools import slug


def page_url(title):
    return "/pages/" + slug(title)
