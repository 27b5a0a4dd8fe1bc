using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Billing;

/// <summary>A gateway whose exchange takes a fee of 2.5 % of every charge.</summary>
public sealed class BillingGateway() : ExchangeFactory(("Exchange:Billing:FeeBasisPoints", "250"));
