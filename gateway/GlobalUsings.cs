global using Orleans;
global using Praison.Orleans.GrainInterfaces;
global using Praison.Orleans.Gateway.Http;
