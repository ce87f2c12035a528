"""Official air-raid alerts (alerts.in.ua): the API client at the edge, the pure diff of
active lists into started / ended events, the mapping of the API's locations to Ukraine's
units (bot.news.admin_units), and the service that makes them messages for followers."""
