using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Rights;

/// <summary>A gateway on which rights gate publishing and approvals, with no notice period, so a test reviews at once.</summary>
public sealed class RightsGateway() : ExchangeFactory(("Exchange:Rights:Required", "true"), ("Exchange:Rights:NoticePeriod", "00:00:00"));
